// Does what relying parties see match the database? For each CA: every certificate
// the database shows revoked or on hold is in the latest CRL (same reason) and its
// stored OCSP answers say revoked (same reason); no other certificate is in the
// CRL or answered revoked. The published bytes are parsed (pki/status-read.ts),
// not a side table. Everything is read in one REPEATABLE READ snapshot, so a
// status change committed during the check cannot show up as a difference.
import { certificatesWithOcspPage } from '../db/repositories/consistency.js';
import * as repo from '../db/repositories/pki.js';
import { readCrl, readOcspStatus } from '../pki/status-read.js';
import type { CaId, OcspHash } from '../pki/index.js';
import { regenerateStaleCrls } from './certificate-status.js';
import type { ServiceContext } from './context.js';

/** Differences listed per kind (the counts are exact; the lists stop here). */
const LIST_MAX = 100;
const PAGE = 5000;

export interface Difference {
  serial: string;
  database: string;
  published: string;
}

export interface CaConsistency {
  ca: string;
  crlNumber: string | null;
  crlThisUpdate: string | null;
  /** A status change is not yet in the CRL: a regeneration is pending (crl_stale_since). */
  crlStale: boolean;
  crlStaleSince: string | null;
  crlSignatureValid: boolean;
  certificates: number;
  revokedOrOnHold: number;
  crlEntries: number;
  differences: { crl: number; ocsp: number };
  /** In the database revoked/on hold, absent from the CRL or with another reason; or in the CRL and not revoked. */
  crl: Difference[];
  /**
   * A stored OCSP answer (SHA-1 or SHA-256 CertID) that says something else than the database, is
   * missing (`none`; for SHA-256, a row of before migration 0013 the refresh has not re-signed yet),
   * or names another CertID hash than its column (`otherHash:…`).
   */
  ocsp: Difference[];
}

export interface ConsistencyReport {
  consistent: boolean;
  checkedAt: string;
  regenerated: boolean;
  cas: CaConsistency[];
}

const dbView = (status: string, reason: string | null) => (status === 'good' ? 'good' : `revoked:${status === 'onHold' ? 'certificateHold' : (reason ?? 'unspecified')}`);

function ocspView(der: Uint8Array | null, serial: string, hash: OcspHash): string {
  if (!der) return 'none';
  try {
    const s = readOcspStatus(der);
    if (s.serial !== serial) return `otherSerial:${s.serial}`;
    if (s.hashAlgorithm !== hash) return `otherHash:${s.hashAlgorithm}`;
    return s.status === 'revoked' ? `revoked:${s.reason}` : s.status;
  } catch {
    return 'malformed';
  }
}

async function checkCa(trx: Parameters<typeof repo.crlStates>[0], ctx: ServiceContext, caId: CaId, state: repo.CrlState | undefined): Promise<CaConsistency> {
  const ca = ctx.cas.get(caId);
  const report: CaConsistency = {
    ca: caId, crlNumber: null, crlThisUpdate: null, crlStale: Boolean(state?.staleSince), crlStaleSince: state?.staleSince?.toISOString() ?? null,
    crlSignatureValid: false, certificates: 0, revokedOrOnHold: 0, crlEntries: 0, differences: { crl: 0, ocsp: 0 }, crl: [], ocsp: [],
  };
  const note = (list: Difference[], kind: 'crl' | 'ocsp', d: Difference) => {
    report.differences[kind]++;
    if (list.length < LIST_MAX) list.push(d);
  };

  // The CRL as published: serial → reason. Missing CRL counts as empty.
  const inCrl = new Map<string, string>();
  const number = await repo.latestCrlNumber(trx, caId);
  const crlRow = number === undefined ? undefined : await repo.findCrl(trx, caId, number);
  if (crlRow) {
    const crl = readCrl(crlRow.der, ca.identity.certificate);
    report.crlNumber = crlRow.crlNumber;
    report.crlThisUpdate = crl.thisUpdate.toISOString();
    report.crlSignatureValid = crl.signatureValid;
    for (const e of crl.entries()) inCrl.set(e.serial, e.reason);
    report.crlEntries = inCrl.size;
  }

  let after = '';
  for (;;) {
    const page = await certificatesWithOcspPage(trx, caId, after, PAGE);
    for (const c of page) {
      report.certificates++;
      const expected = dbView(c.status, c.reason);
      if (c.status !== 'good') report.revokedOrOnHold++;
      const crlReason = inCrl.get(c.serial);
      const published = crlReason === undefined ? 'good' : `revoked:${crlReason}`;
      if (published !== expected) note(report.crl, 'crl', { serial: c.serial, database: expected, published: crlReason === undefined ? 'notInCrl' : published });
      inCrl.delete(c.serial);
      // Both are pre-signed with every change (ocsp-answers.ts): each must be there and agree.
      for (const [hash, der] of [['sha1', c.ocspSha1], ['sha256', c.ocspSha256]] as const) {
        const answer = ocspView(der, c.serial, hash);
        if (answer !== expected) {
          note(report.ocsp, 'ocsp', { serial: c.serial, database: expected, published: answer });
          break;
        }
      }
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.serial;
  }
  // Left in the CRL: serials this CA never issued (or another CA's).
  for (const [serial, reason] of inCrl) note(report.crl, 'crl', { serial, database: 'none', published: `revoked:${reason}` });
  return report;
}

/**
 * Checks every CA. With `regenerate`, stale CRLs are regenerated first (what the maintenance loop
 * would do within seconds), so the report is about the data, not about timing.
 */
export async function checkPkiConsistency(ctx: ServiceContext, opts: { regenerate?: boolean } = {}): Promise<ConsistencyReport> {
  if (opts.regenerate) await regenerateStaleCrls(ctx);
  const checkedAt = ctx.clock.now();
  const cas = await ctx.db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      await repo.allowLongStatements(trx);
      const states = await repo.crlStates(trx);
      const out: CaConsistency[] = [];
      for (const ca of ctx.cas.all()) out.push(await checkCa(trx, ctx, ca.id, states.find((s) => s.caId === ca.id)));
      return out;
    });
  return {
    consistent: cas.every((c) => c.differences.crl === 0 && c.differences.ocsp === 0 && c.crlSignatureValid),
    checkedAt: checkedAt.toISOString(),
    regenerated: Boolean(opts.regenerate),
    cas,
  };
}
