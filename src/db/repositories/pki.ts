// Persistence for the CA: authorities, issued certificates and their status
// history, CRLs and pre-signed OCSP responses. Bytes in, bytes out: nothing
// here signs or parses (that is pki/), and nothing decides (that is services/).
import { CompiledQuery, sql, type Kysely } from 'kysely';
import { preparedStatement } from '../connection.js';
import { preparedQuery } from '../prepared-queries.js';
import type { Database } from '../schema.js';

type Db = Kysely<Database>;

// Advisory-lock namespace (first int4 key) for everything PKI; the second key names the job.
export const PKI_LOCK_NAMESPACE = 0x4a504b49; // 'JPKI'

export interface CaRow {
  caId: string;
  certificate: Uint8Array;
  encryptedKey: string;
  responderCertificate: Uint8Array;
  responderEncryptedKey: string;
}

export async function listCas(db: Db): Promise<CaRow[]> {
  const rows = await db
    .selectFrom('certificate_authorities')
    .select(['ca_id', 'certificate', 'encrypted_key', 'responder_certificate', 'responder_encrypted_key'])
    .orderBy('ca_id')
    .execute();
  return rows.map((r) => ({
    caId: r.ca_id,
    certificate: r.certificate,
    encryptedKey: r.encrypted_key,
    responderCertificate: r.responder_certificate,
    responderEncryptedKey: r.responder_encrypted_key,
  }));
}

/** Inserts a new CA unless another process got there first (the caller then reads back the winner). */
export async function insertCaIfAbsent(db: Db, ca: CaRow, now: Date): Promise<void> {
  await db
    .insertInto('certificate_authorities')
    .values({
      ca_id: ca.caId,
      certificate: ca.certificate,
      encrypted_key: ca.encryptedKey,
      responder_certificate: ca.responderCertificate,
      responder_encrypted_key: ca.responderEncryptedKey,
      // No CRL yet: the first regeneration publishes an empty one.
      crl_stale_since: now,
      created_at: now,
    })
    .onConflict((oc) => oc.column('ca_id').doNothing())
    .execute();
}

/** Replaces the responder only if it is still the one the caller renewed (compare-and-set). */
export async function replaceResponder(db: Db, caId: string, previous: Uint8Array, certificate: Uint8Array, encryptedKey: string): Promise<boolean> {
  const r = await db
    .updateTable('certificate_authorities')
    .set({ responder_certificate: certificate, responder_encrypted_key: encryptedKey })
    .where('ca_id', '=', caId)
    .where('responder_certificate', '=', previous)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export interface NewCertificate {
  serial: string;
  caId: string;
  kind: string;
  carrier: string;
  residentCode: string;
  cardId: string | null;
  deviceId: string | null;
  procedure: string;
  notBefore: Date;
  notAfter: Date;
  expiresOn: string;
  der: Uint8Array;
  issuedAt: Date;
  /** What caused it (request id, event id), for its first history row. */
  cause: string;
}

// Written out rather than built: the issuance's one insert, sent as a prepared statement.
const insertCertificateQuery = preparedQuery(() => CompiledQuery.raw(`
  WITH issued AS (
    INSERT INTO certificates (serial, ca_id, kind, carrier, resident_code, card_id, device_id, procedure, not_before, not_after,
                              expires_on, der, status, revocation_reason, revoked_at, invalidity_date, issued_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'good', NULL, NULL, NULL, $13)
    RETURNING serial, not_before, issued_at)
  INSERT INTO certificate_status_changes (serial, status, reason, effective_at, recorded_at, cause)
  SELECT serial, 'good', NULL, not_before, issued_at, $14 FROM issued`, new Array(14).fill(null)));

/**
 * Inserts a certificate (status good) and its first history row (good, effective at notBefore,
 * recorded at issuedAt) in one statement.
 */
export async function insertCertificate(db: Db, c: NewCertificate): Promise<void> {
  await insertCertificateQuery(db, [
    c.serial, c.caId, c.kind, c.carrier, c.residentCode, c.cardId, c.deviceId, c.procedure, c.notBefore, c.notAfter, c.expiresOn, c.der, c.issuedAt, c.cause,
  ]);
}

export interface StatusChangeRow {
  serial: string;
  status: string;
  reason: string | null;
  effectiveAt: Date;
  recordedAt: Date;
  cause: string;
}

/** Rows per multi-row INSERT: well under PostgreSQL's 65,535 bind parameters. */
const ROWS_PER_INSERT = 1000;

function slices<T>(rows: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) out.push(rows.slice(i, i + ROWS_PER_INSERT));
  return out;
}

export async function insertStatusChanges(db: Db, changes: StatusChangeRow[]): Promise<void> {
  for (const part of slices(changes)) {
    await db
      .insertInto('certificate_status_changes')
      .values(part.map((c) => ({ serial: c.serial, status: c.status, reason: c.reason, effective_at: c.effectiveAt, recorded_at: c.recordedAt, cause: c.cause })))
      .execute();
  }
}

export interface CertificateStatusRow {
  serial: string;
  caId: string;
  status: string;
  revocationReason: string | null;
  revokedAt: Date | null;
  invalidityDate: Date | null;
  notBefore: Date;
  notAfter: Date;
}

const STATUS_COLUMNS = ['serial', 'ca_id', 'status', 'revocation_reason', 'revoked_at', 'invalidity_date', 'not_before', 'not_after'] as const;
type StatusSelect = { serial: string; ca_id: string; status: string; revocation_reason: string | null; revoked_at: Date | null; invalidity_date: Date | null; not_before: Date; not_after: Date };
const statusRow = (r: StatusSelect): CertificateStatusRow => ({
  serial: r.serial,
  caId: r.ca_id,
  status: r.status,
  revocationReason: r.revocation_reason,
  revokedAt: r.revoked_at,
  invalidityDate: r.invalidity_date,
  notBefore: r.not_before,
  notAfter: r.not_after,
});

/** The certificates' status rows, locked FOR UPDATE (in serial order) until the transaction ends. */
export async function lockCertificates(db: Db, serials: string[]): Promise<CertificateStatusRow[]> {
  if (serials.length === 0) return [];
  const rows = await db.selectFrom('certificates').select(STATUS_COLUMNS).where('serial', 'in', [...new Set(serials)].sort()).orderBy('serial').forUpdate().execute();
  return rows.map(statusRow);
}

export async function findCertificateStatus(db: Db, serial: string): Promise<CertificateStatusRow | undefined> {
  const r = await db.selectFrom('certificates').select(STATUS_COLUMNS).where('serial', '=', serial).executeTakeFirst();
  return r && statusRow(r);
}

/** Sets each certificate's status in one statement (one row per serial). */
export async function updateCertificateStatuses(
  db: Db,
  updates: { serial: string; status: string; reason: string; revokedAt: Date; invalidityDate: Date }[],
): Promise<void> {
  if (updates.length === 0) return;
  const rows = JSON.stringify(updates.map((u) => ({ serial: u.serial, status: u.status, reason: u.reason, revoked_at: u.revokedAt.toISOString(), invalidity_date: u.invalidityDate.toISOString() })));
  await sql`
    UPDATE certificates c
    SET status = v.status, revocation_reason = v.reason, revoked_at = v.revoked_at, invalidity_date = v.invalidity_date
    FROM jsonb_to_recordset(${rows}::jsonb) AS v(serial text, status text, reason text, revoked_at timestamptz, invalidity_date timestamptz)
    WHERE c.serial = v.serial`.execute(db);
}

export interface OcspResponseRow {
  serial: string;
  caId: string;
  status: string;
  sha1Der: Uint8Array;
  sha256Der: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date;
}

/**
 * Stores both answers of each certificate (SHA-1 and SHA-256 CertIDs, signed from the same status
 * and window), replacing earlier ones for the same serials (at most one row per serial).
 */
export async function upsertOcspResponses(db: Db, responses: OcspResponseRow[]): Promise<void> {
  for (const part of slices(responses)) {
    await db
      .insertInto('ocsp_responses')
      .values(part.map((r) => ({ serial: r.serial, ca_id: r.caId, status: r.status, sha1_der: r.sha1Der, sha256_der: r.sha256Der, this_update: r.thisUpdate, next_update: r.nextUpdate })))
      .onConflict((oc) => oc.column('serial').doUpdateSet((eb) => ({
        status: eb.ref('excluded.status'),
        sha1_der: eb.ref('excluded.sha1_der'),
        sha256_der: eb.ref('excluded.sha256_der'),
        this_update: eb.ref('excluded.this_update'),
        next_update: eb.ref('excluded.next_update'),
      })))
      .execute();
  }
}

export interface StoredOcspAnswer {
  der: Buffer;
  thisUpdate: Date;
  nextUpdate: Date;
}

/**
 * A stored row's answer for one CertID hash. `der` is null only for the SHA-256 answer of a row
 * written before migration 0013 and not re-signed since (the background refresh signs those first).
 */
export type OcspAnswerLookup = Omit<StoredOcspAnswer, 'der'> & { der: Buffer | null };

type OcspAnswerRow = { der: Buffer | null; this_update: Date; next_update: Date };

const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

// The hot path's two texts (one per CertID hash), compiled once per database handle and sent as
// named prepared statements (db/connection.ts): no query building per request, and PostgreSQL
// parses and plans each once per connection.
const ocspAnswerQueries = new WeakMap<Db, Record<'sha1' | 'sha256', CompiledQuery<OcspAnswerRow>>>();

function ocspAnswerQuery(db: Db, hash: 'sha1' | 'sha256'): CompiledQuery<OcspAnswerRow> {
  let queries = ocspAnswerQueries.get(db);
  if (!queries) {
    const compile = (column: 'sha1_der' | 'sha256_der') => {
      const query = db
        .selectFrom('ocsp_responses')
        .select([`${column} as der`, 'this_update', 'next_update'])
        .where('serial', '=', '')
        .where('ca_id', '=', '')
        .compile() as CompiledQuery<OcspAnswerRow>;
      preparedStatement(query.sql);
      return query;
    };
    queries = { sha1: compile('sha1_der'), sha256: compile('sha256_der') };
    ocspAnswerQueries.set(db, queries);
  }
  return queries[hash];
}

/** The hot path: one indexed lookup, only the bytes asked for; undefined when the CA has no row for the serial. */
export async function findOcspResponse(db: Db, caId: string, serial: string, hash: 'sha1' | 'sha256'): Promise<OcspAnswerLookup | undefined> {
  const { rows } = await db.executeQuery<OcspAnswerRow>({ ...ocspAnswerQuery(db, hash), parameters: [serial, caId] });
  const r = rows[0];
  return r && { der: r.der && asBuffer(r.der), thisUpdate: r.this_update, nextUpdate: r.next_update };
}

/** Stored answers for SHA-1 CertIDs in serial order after `afterSerial` (filling the in-memory cache). */
export async function ocspResponsesPage(db: Db, afterSerial: string, limit: number): Promise<(StoredOcspAnswer & { serial: string; caId: string })[]> {
  const rows = await db
    .selectFrom('ocsp_responses')
    .select(['serial', 'ca_id', 'sha1_der', 'this_update', 'next_update'])
    .where('serial', '>', afterSerial)
    .orderBy('serial')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ serial: r.serial, caId: r.ca_id, der: asBuffer(r.sha1_der), thisUpdate: r.this_update, nextUpdate: r.next_update }));
}

/**
 * Stored responses of a CA that need signing again: past half-life (next_update before
 * `nextUpdateBefore`), signed before `signedBefore` (a responder renewal), or without a SHA-256
 * answer (a row written before migration 0013, when that one was signed on request). The certificate rows
 * are locked (FOR SHARE SKIP LOCKED): a status change in flight holds its row and re-signs itself,
 * so a refresh can never overwrite a fresher answer with a stale one.
 */
export async function lockDueOcspResponses(
  db: Db,
  caId: string,
  due: { now: Date; nextUpdateBefore: Date; signedBefore: Date },
  afterSerial: string,
  limit: number,
): Promise<CertificateStatusRow[]> {
  const rows = await db
    .selectFrom('ocsp_responses as o')
    .innerJoin('certificates as c', 'c.serial', 'o.serial')
    .select(STATUS_COLUMNS.map((c) => `c.${c}` as const))
    .where('o.ca_id', '=', caId)
    .where((eb) =>
      eb.or([
        // Past its own half-life (a window cut short by the responder's expiry counts from its own length).
        eb.and([eb('o.next_update', '<', due.nextUpdateBefore), sql<boolean>`o.this_update + (o.next_update - o.this_update) / 2 <= ${due.now}::timestamptz`]),
        eb('o.this_update', '<', due.signedBefore),
        eb('o.sha256_der', 'is', null),
      ]),
    )
    .where('o.serial', '>', afterSerial)
    .orderBy('o.serial')
    .limit(limit)
    .forShare('c')
    .skipLocked()
    .execute();
  return rows.map(statusRow);
}

/** Counts `changes` status changes that the CRL must show and tells listeners (NOTIFY is delivered at commit). */
export async function markCrlStale(db: Db, caId: string, now: Date, changes = 1): Promise<void> {
  await sql`
    WITH marked AS (
      UPDATE certificate_authorities
      SET crl_stale_since = coalesce(crl_stale_since, ${now}::timestamptz), crl_changes = crl_changes + ${changes}
      WHERE ca_id = ${caId}
      RETURNING ca_id
    )
    SELECT pg_notify('crl_stale', ca_id) FROM marked`.execute(db);
}

export interface CrlState {
  caId: string;
  staleSince: Date | null;
  latestThisUpdate: Date | null;
  latestNextUpdate: Date | null;
}

export async function crlStates(db: Db): Promise<CrlState[]> {
  const rows = await db
    .selectFrom('certificate_authorities as a')
    .leftJoinLateral(
      (eb) => eb.selectFrom('crls').select(['this_update', 'next_update']).whereRef('crls.ca_id', '=', 'a.ca_id').orderBy('crl_number', 'desc').limit(1).as('l'),
      (join) => join.onTrue(),
    )
    .select(['a.ca_id', 'a.crl_stale_since', 'l.this_update', 'l.next_update'])
    .orderBy('a.ca_id')
    .execute();
  return rows.map((r) => ({ caId: r.ca_id, staleSince: r.crl_stale_since, latestThisUpdate: r.this_update ?? null, latestNextUpdate: r.next_update ?? null }));
}

/** Serializes CRL work on one CA across processes for the rest of the transaction. */
export async function lockCrlWork(db: Db, caKey: number): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${PKI_LOCK_NAMESPACE}::int4, ${caKey}::int4)`.execute(db);
}

export async function allowLongStatements(db: Db): Promise<void> {
  await sql`SET LOCAL statement_timeout = '300s'`.execute(db);
}

export async function crlCounters(db: Db, caId: string): Promise<{ nextCrlNumber: string; crlChanges: string; staleSince: Date | null }> {
  const r = await db
    .selectFrom('certificate_authorities')
    .select(['next_crl_number', 'crl_changes', 'crl_stale_since'])
    .where('ca_id', '=', caId)
    .executeTakeFirstOrThrow();
  return { nextCrlNumber: String(r.next_crl_number), crlChanges: String(r.crl_changes), staleSince: r.crl_stale_since };
}

export interface RevokedRow {
  serial: string;
  reason: string | null;
  revokedAt: Date;
  invalidityDate: Date | null;
}

/** One page of a CA's CRL entries in serial order (partial index certificates_crl). */
export async function revokedPage(db: Db, caId: string, afterSerial: string, limit: number): Promise<RevokedRow[]> {
  const rows = await db
    .selectFrom('certificates')
    .select(['serial', 'revocation_reason', 'revoked_at', 'invalidity_date'])
    .where('ca_id', '=', caId)
    .where('status', '<>', 'good')
    .where('serial', '>', afterSerial)
    .orderBy('ca_id')
    .orderBy('serial')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ serial: r.serial, reason: r.revocation_reason, revokedAt: r.revoked_at ?? new Date(0), invalidityDate: r.invalidity_date }));
}

export async function insertCrl(
  db: Db,
  crl: { caId: string; crlNumber: string; thisUpdate: Date; nextUpdate: Date; entryCount: number; der: Uint8Array },
  keep: number,
): Promise<void> {
  await db
    .insertInto('crls')
    .values({ ca_id: crl.caId, crl_number: crl.crlNumber, this_update: crl.thisUpdate, next_update: crl.nextUpdate, entry_count: crl.entryCount, der: crl.der })
    .execute();
  // Old CRLs are superseded; a few are kept for inspection, not the whole history (each can be tens of MB).
  await db
    .deleteFrom('crls')
    .where('ca_id', '=', crl.caId)
    .where('crl_number', '<=', String(BigInt(crl.crlNumber) - BigInt(keep)))
    .execute();
}

/** Advances the CRL number; clears staleness only if no change arrived since `seenChanges` was read. */
export async function finishCrl(db: Db, caId: string, nextCrlNumber: string, seenChanges: string): Promise<void> {
  await db
    .updateTable('certificate_authorities')
    .set((eb) => ({
      next_crl_number: nextCrlNumber,
      crl_stale_since: eb.case().when('crl_changes', '=', seenChanges).then(sql<Date | null>`NULL`).else(eb.ref('crl_stale_since')).end(),
    }))
    .where('ca_id', '=', caId)
    .execute();
}

export async function latestCrlNumber(db: Db, caId: string): Promise<string | undefined> {
  const r = await db.selectFrom('crls').select('crl_number').where('ca_id', '=', caId).orderBy('crl_number', 'desc').limit(1).executeTakeFirst();
  return r ? String(r.crl_number) : undefined;
}

export async function findCrl(db: Db, caId: string, crlNumber: string): Promise<{ crlNumber: string; der: Uint8Array; thisUpdate: Date; nextUpdate: Date } | undefined> {
  const r = await db
    .selectFrom('crls')
    .select(['crl_number', 'der', 'this_update', 'next_update'])
    .where('ca_id', '=', caId)
    .where('crl_number', '=', crlNumber)
    .executeTakeFirst();
  return r && { crlNumber: String(r.crl_number), der: r.der, thisUpdate: r.this_update, nextUpdate: r.next_update };
}
