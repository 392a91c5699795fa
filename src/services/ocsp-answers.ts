// The OCSP answers relying parties get. A status change signs the SHA-1 CertID answer in its own
// transaction (what openssl, Windows and most relying parties ask for) and stores it; the
// maintenance loop re-signs stored answers at half-life and after a responder renewal. The SHA-256
// CertID answer is signed on its first request from the very row the SHA-1 answer was signed from,
// and stored beside it until the next change (migration 0010): one RSA signature per change
// instead of two, where almost every request asks for SHA-1.
import * as repo from '../db/repositories/pki.js';
import { buildOcspResponse, type CaId, type OcspCertStatus, type OcspHash, type RevocationReason } from '../pki/index.js';
import type { LoadedCa } from './certificate-authority.js';
import { inTransaction, type ServiceContext, type Tx } from './context.js';
import { ocspAnswersChanging } from './ocsp-cache.js';

const HOUR = 3_600_000;

/** The OCSP validity window for a response signed now, never outliving the responder certificate. */
function ocspWindow(ctx: ServiceContext, ca: LoadedCa, now: Date): { thisUpdate: Date; nextUpdate: Date } {
  const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const wanted = thisUpdate.getTime() + ctx.config.policy.ocspValidityHours * HOUR;
  const nextUpdate = new Date(Math.min(wanted, ca.responder.notAfter.getTime()));
  // A responder at the very end of its life (renewal overdue) still gets a valid, short window.
  return { thisUpdate, nextUpdate: nextUpdate > thisUpdate ? nextUpdate : new Date(thisUpdate.getTime() + 60_000) };
}

export function ocspStatusOf(row: { status: string; revocationReason: string | null; revokedAt: Date | null }): OcspCertStatus {
  if (row.status === 'good') return { status: 'good' };
  // RFC 6960 §2.2: a hold is "revoked" with reason certificateHold.
  const reason = (row.revocationReason ?? (row.status === 'onHold' ? 'certificateHold' : 'unspecified')) as RevocationReason;
  return { status: 'revoked', revokedAt: row.revokedAt ?? new Date(0), reason };
}

export type OcspSubject = { serial: string; caId: string; status: string; revocationReason: string | null; revokedAt: Date | null };

/** The SHA-1 CertID answer of each certificate, all signed at once on the thread pool (pki/sign.ts). */
export function signOcspResponses(ctx: ServiceContext, rows: OcspSubject[], now: Date): Promise<repo.OcspResponseRow[]> {
  return Promise.all(rows.map(async (row) => {
    const ca = ctx.cas.get(row.caId as CaId);
    const { thisUpdate, nextUpdate } = ocspWindow(ctx, ca, now);
    const der = await buildOcspResponse({ issuer: ca.identity, responder: ca.responder, serial: row.serial, status: ocspStatusOf(row), thisUpdate, nextUpdate, producedAt: thisUpdate, hashAlgorithm: 'sha1' });
    return { serial: row.serial, caId: ca.id, status: row.status, sha1Der: der, thisUpdate, nextUpdate };
  }));
}

/** Stores signed answers in the caller's transaction, replacing earlier ones (SHA-256 variants included). */
export async function storeSignedOcspResponses(db: Tx | ServiceContext['db'], ctx: ServiceContext, signed: repo.OcspResponseRow[]): Promise<void> {
  // This process stops answering these serials from memory until the commit's NOTIFY comes back.
  ocspAnswersChanging(ctx, signed.map((r) => r.serial));
  await repo.upsertOcspResponses(db, signed);
}

/** Signs each certificate's answer and stores it (replacing earlier ones). */
export async function storeOcspResponses(db: Tx | ServiceContext['db'], ctx: ServiceContext, rows: OcspSubject[], now: Date): Promise<void> {
  await storeSignedOcspResponses(db, ctx, await signOcspResponses(ctx, rows, now));
}

/**
 * The stored answer to a CertID hashed with `hash`, or undefined when this CA has none for the
 * serial. A SHA-256 answer not signed since the last change is signed now with the status and
 * window of the stored SHA-1 answer (read in one snapshot with it), and stored unless that row
 * changed meanwhile; either way the answer given is the one that row stands for.
 */
export async function storedOcspAnswer(ctx: ServiceContext, caId: string, serial: string, hash: OcspHash): Promise<repo.StoredOcspAnswer | undefined> {
  if (hash === 'sha1') return repo.findOcspResponse(ctx.db, caId, serial);
  const row = await repo.findSha256OcspResponse(ctx.db, caId, serial);
  if (!row) return undefined;
  const { thisUpdate, nextUpdate } = row;
  if (row.der) return { der: row.der, thisUpdate, nextUpdate };
  const ca = ctx.cas.get(caId as CaId);
  const signedAt = new Date(Math.max(ctx.clock.now().getTime(), thisUpdate.getTime()));
  const der = await buildOcspResponse({ issuer: ca.identity, responder: ca.responder, serial, status: ocspStatusOf(row), thisUpdate, nextUpdate, producedAt: signedAt, hashAlgorithm: 'sha256' });
  await repo.storeSha256OcspAnswer(ctx.db, serial, row.version, der);
  return { der, thisUpdate, nextUpdate };
}

/**
 * Re-signs stored OCSP answers that are past half-life (OCSP_VALIDITY_HOURS / 2 left) or were
 * signed by a responder certificate since replaced. Works in batches, one transaction each; returns
 * how many were re-signed (at most `limit`, so a caller can bound one run).
 */
export async function refreshOcspResponses(ctx: ServiceContext, opts: { batchSize?: number; limit?: number } = {}): Promise<number> {
  const batchSize = opts.batchSize ?? 500;
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  let done = 0;
  for (const ca of ctx.cas.all()) {
    // Keyset by serial: each answer is re-signed at most once per run, whatever the clock does.
    let after = '';
    for (;;) {
      const n = await inTransaction(ctx, async (trx) => {
        const now = ctx.clock.now();
        const due = {
          now,
          nextUpdateBefore: new Date(now.getTime() + (ctx.config.policy.ocspValidityHours * HOUR) / 2),
          signedBefore: ca.responderNotBefore,
        };
        const rows = await repo.lockDueOcspResponses(trx, ca.id, due, after, Math.min(batchSize, limit - done));
        await storeOcspResponses(trx, ctx, rows, now);
        if (rows.length > 0) after = rows[rows.length - 1]!.serial;
        return rows.length;
      });
      done += n;
      if (n < batchSize || done >= limit) break;
    }
    if (done >= limit) break;
  }
  return done;
}
