// Issuing certificates and changing their status, with what relying parties see
// kept in step: the OCSP answers are signed and stored in the same transaction
// as the status (Boulder: the status is stored before anything is signed for
// it, and a rollback discards both), and the CRL is marked stale so that a
// regeneration follows after commit (coalesced: a burst gives one CRL).
import * as repo from '../db/repositories/pki.js';
import {
  buildCrl,
  PackedCrlEntries,
  buildEndEntityCertificate,
  CA_IDS,
  generateSerial,
  normalizeSerial,
  REVOCATION_REASONS,
  toPem,
  type BasicFacts,
  type CaId,
  type RevocationReason,
} from '../pki/index.js';
import { conflict, notFound } from '../problems.js';
import { inTransaction, type ServiceContext, type Tx } from './context.js';
import { signOcspResponses, storeSignedOcspResponses } from './ocsp-answers.js';

export type { RevocationReason } from '../pki/index.js';

/** The reasons this service records (DOMAIN.md "Revocation"); other RFC 5280 codes are refused. */
export const STATUS_CHANGE_REASONS = ['affiliationChanged', 'superseded', 'certificateHold', 'keyCompromise', 'cessationOfOperation'] as const satisfies readonly RevocationReason[];
export type StatusChangeReason = (typeof STATUS_CHANGE_REASONS)[number];

export type CertificateKind = 'signature' | 'userAuthentication';
export type Carrier = 'card' | 'smartphone';

export interface IssueCertificateInput {
  ca: CaId;
  /** SubjectPublicKeyInfo DER (parseCsr(...).spki or generateResidentKeyPair().spki). */
  spki: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** Civil expiry date, YYYY-MM-DD. */
  expiresOn: string;
  /** Required for the signature CA, refused for user authentication. */
  basicFacts?: BasicFacts;
  kind: CertificateKind;
  carrier: Carrier;
  residentCode: string;
  cardId: string | null;
  deviceId: string | null;
  procedure: string;
  /** What caused it (request id, event id): kept in certificate_status_changes. */
  cause: string;
}

export interface IssuedCertificateResult {
  /** Lowercase hex, no leading zeros: the certificates primary key. */
  serial: string;
  der: Uint8Array;
  pem: string;
  /** As encoded (whole seconds). */
  notBefore: Date;
  notAfter: Date;
}

export interface StatusChange {
  serial: string;
  status: 'onHold' | 'revoked';
  reason: RevocationReason;
  /** When it takes effect (the event's time): the CRL's invalidityDate. */
  effectiveAt: Date;
  cause: string;
}

const HOUR = 3_600_000;

/**
 * Builds and stores a certificate (status good) with its first history row and its pre-signed
 * OCSP `good` answer, all in the caller's transaction. The answer needs only the serial, so it is
 * signed on the thread pool alongside the certificate.
 */
export async function issueCertificate(trx: Tx, ctx: ServiceContext, input: IssueCertificateInput): Promise<IssuedCertificateResult> {
  if (input.ca !== input.kind) throw new Error(`a ${input.kind} certificate comes from the ${input.kind} CA, not ${input.ca}`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.expiresOn)) throw new Error(`expiresOn must be YYYY-MM-DD: ${input.expiresOn}`);
  const ca = ctx.cas.get(input.ca);
  const now = ctx.clock.now();
  const serial = generateSerial();
  const answers = signOcspResponses(ctx, [{ serial, caId: ca.id, status: 'good', revocationReason: null, revokedAt: null }], now);
  answers.catch(() => undefined); // awaited below; the certificate failing first must not leave it unhandled
  const cert = await buildEndEntityCertificate({
    issuer: ca.identity,
    caPrivateKey: ca.privateKey,
    spki: input.spki,
    notBefore: input.notBefore,
    notAfter: input.notAfter,
    baseUrl: ctx.config.publicBaseUrl,
    serial,
    ...(input.basicFacts ? { basicFacts: input.basicFacts } : {}),
  });
  await repo.insertCertificate(trx, {
    serial: cert.serial,
    caId: ca.id,
    kind: input.kind,
    carrier: input.carrier,
    residentCode: input.residentCode,
    cardId: input.cardId,
    deviceId: input.deviceId,
    procedure: input.procedure,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    expiresOn: input.expiresOn,
    der: cert.der,
    issuedAt: now,
    cause: input.cause,
  });
  await storeSignedOcspResponses(trx, ctx, await answers);
  return { serial: cert.serial, der: cert.der, pem: toPem(cert.der), notBefore: cert.notBefore, notAfter: cert.notAfter };
}

/**
 * good → onHold | revoked, onHold → revoked. A hold is never released (DOMAIN.md): there is no
 * way back to good. Refusals are 409 problems: statusChangeNotAllowed (any target but onHold or
 * revoked), certificateAlreadyRevoked (anything out of revoked), certificateAlreadyOnHold (onHold →
 * onHold). PostgreSQL refuses the same transitions whoever writes (migration 0015).
 * Re-signs the OCSP answers and marks the CA's CRL stale, in the caller's transaction.
 */
export async function changeCertificateStatus(trx: Tx, ctx: ServiceContext, change: StatusChange): Promise<void> {
  await changeCertificateStatuses(trx, ctx, [change]);
}

function checkedSerial(change: StatusChange): string {
  // Typed as onHold | revoked, but callers pass what they were given: nothing ever turns back to good.
  if (change.status !== 'onHold' && change.status !== 'revoked') {
    throw conflict(
      'statusChangeNotAllowed',
      'Status change not allowed',
      `A certificate's status can only become onHold or revoked, not ${String(change.status)}: a hold is never released and a revocation is final.`,
      { serial: change.serial, status: String(change.status) },
    );
  }
  if (!(STATUS_CHANGE_REASONS as readonly string[]).includes(change.reason) || REVOCATION_REASONS[change.reason] === undefined) {
    throw new Error(`revocation reason ${String(change.reason)} is not one this service records`);
  }
  if ((change.status === 'onHold') !== (change.reason === 'certificateHold')) {
    throw new Error('a hold has reason certificateHold, and certificateHold means a hold');
  }
  if (Number.isNaN(change.effectiveAt.getTime())) throw new Error('effectiveAt is not a valid Date');
  try {
    return normalizeSerial(change.serial);
  } catch {
    throw notFound('Certificate', `No certificate ${change.serial}.`);
  }
}

/**
 * Several status changes, applied in order, in a few statements whatever their number (a batch
 * chunk revokes hundreds): the certificates are locked in serial order, every change is checked as
 * changeCertificateStatus would check it, then the rows, the history, the re-signed OCSP answers
 * and each CA's CRL staleness are written set-wise.
 */
export async function changeCertificateStatuses(trx: Tx, ctx: ServiceContext, changes: StatusChange[]): Promise<void> {
  if (changes.length === 0) return;
  const serials = changes.map(checkedSerial);
  const rows = new Map((await repo.lockCertificates(trx, serials)).map((r) => [r.serial, r]));
  const now = ctx.clock.now();
  const history: repo.StatusChangeRow[] = [];
  changes.forEach((change, i) => {
    const serial = serials[i]!;
    const row = rows.get(serial);
    if (!row) throw notFound('Certificate', `No certificate ${serial}.`);
    if (row.status === 'revoked') {
      throw conflict('certificateAlreadyRevoked', 'Certificate already revoked', `Certificate ${serial} was revoked (${row.revocationReason ?? 'unspecified'}); a revocation is final.`, { serial });
    }
    if (row.status === 'onHold' && change.status === 'onHold') {
      throw conflict('certificateAlreadyOnHold', 'Certificate already on hold', `Certificate ${serial} is already on hold; it can only be revoked now.`, { serial });
    }
    rows.set(serial, { ...row, status: change.status, revocationReason: change.reason, revokedAt: now, invalidityDate: change.effectiveAt });
    history.push({ serial, status: change.status, reason: change.reason, effectiveAt: change.effectiveAt, recordedAt: now, cause: change.cause });
  });
  const changed = [...new Set(serials)].map((serial) => rows.get(serial)!);
  // Signing runs on the thread pool while the rows are written.
  const signing = signOcspResponses(ctx, changed, now);
  signing.catch(() => undefined); // awaited below; a write failing first must not leave it unhandled
  await repo.updateCertificateStatuses(trx, changed.map((r) => ({ serial: r.serial, status: r.status, reason: r.revocationReason!, revokedAt: now, invalidityDate: r.invalidityDate! })));
  await repo.insertStatusChanges(trx, history);
  await storeSignedOcspResponses(trx, ctx, await signing);
  for (const caId of new Set(changed.map((r) => r.caId))) await repo.markCrlStale(trx, caId, now, changed.filter((r) => r.caId === caId).length);
}

// --- CRLs ----------------------------------------------------------------

const CRL_PAGE = 20_000;
/** How many superseded CRLs stay in the table per CA. */
const CRLS_KEPT = 3;

/** A CA's CRL entries, read page by page into the compact form buildCrl reads (PackedCrlEntries). */
async function collectEntries(db: Tx, caId: string): Promise<PackedCrlEntries> {
  const entries = new PackedCrlEntries();
  let after = '';
  for (;;) {
    const page = await repo.revokedPage(db, caId, after, CRL_PAGE);
    for (const r of page) entries.push(r.serial, r.revokedAt, (r.reason ?? 'unspecified') as RevocationReason, r.invalidityDate);
    if (page.length < CRL_PAGE) break;
    after = page[page.length - 1]!.serial;
  }
  return entries;
}

const caLockKey = (ca: CaId): number => CA_IDS.indexOf(ca) + 1;

function crlDue(state: repo.CrlState, now: Date): boolean {
  if (state.staleSince) return true;
  if (!state.latestThisUpdate || !state.latestNextUpdate) return true;
  const half = (state.latestThisUpdate.getTime() + state.latestNextUpdate.getTime()) / 2;
  return now.getTime() >= half;
}

/**
 * Publishes a new CRL for one CA: CRL number from the CA row, entries as of now, nextUpdate after
 * CRL_VALIDITY_HOURS. Serialized per CA by an advisory lock; revocations are not blocked by it.
 * Staleness is cleared only if no status change was counted while building (else another follows).
 */
export async function regenerateCrl(ctx: ServiceContext, caId: CaId, opts: { onlyIfDue?: boolean } = {}): Promise<boolean> {
  const ca = ctx.cas.get(caId);
  return inTransaction(ctx, async (trx) => {
    await repo.allowLongStatements(trx);
    await repo.lockCrlWork(trx, caLockKey(caId));
    if (opts.onlyIfDue) {
      // Another process may have published while we waited for the lock.
      const state = (await repo.crlStates(trx)).find((s) => s.caId === caId);
      if (!state || !crlDue(state, ctx.clock.now())) return false;
    }
    const counters = await repo.crlCounters(trx, caId);
    const entries = await collectEntries(trx, caId);
    const now = ctx.clock.now();
    const built = buildCrl({
      issuer: ca.identity,
      caPrivateKey: ca.privateKey,
      crlNumber: BigInt(counters.nextCrlNumber),
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + ctx.config.policy.crlValidityHours * HOUR),
      entries,
    });
    await repo.insertCrl(trx, { caId, crlNumber: counters.nextCrlNumber, thisUpdate: built.thisUpdate, nextUpdate: built.nextUpdate, entryCount: built.entryCount, der: built.der }, CRLS_KEPT);
    await repo.finishCrl(trx, caId, String(BigInt(counters.nextCrlNumber) + 1n), counters.crlChanges);
    ctx.log.info({ ca: caId, crlNumber: counters.nextCrlNumber, entries: built.entryCount }, 'CRL published');
    return true;
  });
}

/**
 * Regenerates the CRL of every CA that is marked stale, has none yet, or whose latest CRL is past
 * half its validity; returns how many it published. Tests call it directly; the maintenance loop calls
 * it on NOTIFY and on a poll.
 */
export async function regenerateStaleCrls(ctx: ServiceContext): Promise<number> {
  const now = ctx.clock.now();
  let published = 0;
  for (const state of await repo.crlStates(ctx.db)) {
    if (!ctx.cas.find(state.caId) || !crlDue(state, now)) continue;
    if (await regenerateCrl(ctx, state.caId as CaId, { onlyIfDue: true })) published++;
  }
  return published;
}

/** Publishes a first CRL for any CA that has none (start-up), leaving other work to maintenance. */
export async function publishMissingCrls(ctx: ServiceContext): Promise<void> {
  for (const state of await repo.crlStates(ctx.db)) {
    if (state.latestThisUpdate === null && ctx.cas.find(state.caId)) await regenerateCrl(ctx, state.caId as CaId, { onlyIfDue: true });
  }
}
