// The OCSP answers relying parties get, all pre-signed: every status change (and issuance) signs
// both answers of the certificate, for SHA-1 and for SHA-256 CertIDs (two responses of one
// SingleResponse each: Go's ocsp.ParseResponse, hence cfssl, refuses a response naming both), in
// its own transaction, and stores them together; the maintenance loop re-signs both at half-life
// and after a responder renewal. The request path only looks them up (pki-distribution.ts). Both
// signatures of a row are started together, so they run side by side on libuv's thread pool.
import * as repo from '../db/repositories/pki.js';
import { buildOcspResponses, type CaId, type OcspCertStatus, type RevocationReason } from '../pki/index.js';
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

/** Both answers of each certificate (SHA-1 and SHA-256 CertIDs), all signed at once on the thread pool (pki/sign.ts). */
export function signOcspResponses(ctx: ServiceContext, rows: OcspSubject[], now: Date): Promise<repo.OcspResponseRow[]> {
  return Promise.all(rows.map(async (row) => {
    const ca = ctx.cas.get(row.caId as CaId);
    const { thisUpdate, nextUpdate } = ocspWindow(ctx, ca, now);
    const signed = await buildOcspResponses({ issuer: ca.identity, responder: ca.responder, serial: row.serial, status: ocspStatusOf(row), thisUpdate, nextUpdate, producedAt: thisUpdate });
    return { serial: row.serial, caId: ca.id, status: row.status, sha1Der: signed.sha1, sha256Der: signed.sha256, thisUpdate, nextUpdate };
  }));
}

/** Stores signed answers in the caller's transaction, replacing earlier ones. */
export async function storeSignedOcspResponses(db: Tx | ServiceContext['db'], ctx: ServiceContext, signed: repo.OcspResponseRow[]): Promise<void> {
  // This process stops answering these serials from memory until the commit's NOTIFY comes back.
  ocspAnswersChanging(ctx, signed.map((r) => r.serial));
  await repo.upsertOcspResponses(db, signed);
}

/** Signs both answers of each certificate and stores them (replacing earlier ones). */
export async function storeOcspResponses(db: Tx | ServiceContext['db'], ctx: ServiceContext, rows: OcspSubject[], now: Date): Promise<void> {
  await storeSignedOcspResponses(db, ctx, await signOcspResponses(ctx, rows, now));
}

/**
 * Re-signs stored OCSP answers that are past half-life (OCSP_VALIDITY_HOURS / 2 left), were signed
 * by a responder certificate since replaced, or lack their SHA-256 answer (rows written before
 * migration 0013). Works in batches, one transaction each; returns how many rows were re-signed (at
 * most `limit`, so a caller can bound one run).
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
