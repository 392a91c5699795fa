import { sql, type CompiledQuery, type Kysely } from 'kysely';
import { preparedStatement } from '../connection.js';
import { preparedQuery } from '../prepared-queries.js';
import type { Database } from '../schema.js';

/** Read side of certificates for the lifecycle use cases; writes go through the CA services. */
export type StoredStatus = 'good' | 'onHold' | 'revoked';

export interface CertificateRecord {
  serial: string;
  caId: string;
  kind: 'signature' | 'userAuthentication';
  carrier: 'card' | 'smartphone';
  residentCode: string;
  cardId: string | null;
  deviceId: string | null;
  procedure: string;
  notBefore: Date;
  notAfter: Date;
  expiresOn: string;
  status: StoredStatus;
  revocationReason: string | null;
  revokedAt: Date | null;
  invalidityDate: Date | null;
  issuedAt: Date;
}

export interface StatusChange {
  status: StoredStatus;
  reason: string | null;
  effectiveAt: Date;
  recordedAt: Date;
}

const COLUMNS = [
  'serial', 'ca_id', 'kind', 'carrier', 'resident_code', 'card_id', 'device_id', 'procedure', 'not_before', 'not_after',
  'expires_on', 'status', 'revocation_reason', 'revoked_at', 'invalidity_date', 'issued_at',
] as const;

type Row = {
  serial: string; ca_id: string; kind: string; carrier: string; resident_code: string; card_id: string | null; device_id: string | null;
  procedure: string; not_before: Date; not_after: Date; expires_on: string; status: string; revocation_reason: string | null;
  revoked_at: Date | null; invalidity_date: Date | null; issued_at: Date;
};

function toRecord(r: Row): CertificateRecord {
  return {
    serial: r.serial,
    caId: r.ca_id,
    kind: r.kind as CertificateRecord['kind'],
    carrier: r.carrier as CertificateRecord['carrier'],
    residentCode: r.resident_code,
    cardId: r.card_id,
    deviceId: r.device_id,
    procedure: r.procedure,
    notBefore: r.not_before,
    notAfter: r.not_after,
    expiresOn: r.expires_on,
    status: r.status as StoredStatus,
    revocationReason: r.revocation_reason,
    revokedAt: r.revoked_at,
    invalidityDate: r.invalidity_date,
    issuedAt: r.issued_at,
  };
}

export async function findCertificateRecord(db: Kysely<Database>, serial: string): Promise<CertificateRecord | undefined> {
  const row = await db.selectFrom('certificates').select(COLUMNS).where('serial', '=', serial).executeTakeFirst();
  return row && toRecord(row);
}

type ChangeCell = { s: string; r: string | null; e: number; t: number };
type RowWithChanges = Row & { changes: ChangeCell[] };

// The status route's query is built and compiled once per database handle; each request only
// binds its serial (Kysely's builder and compiler were ~10 % of that route's CPU). On PostgreSQL it
// is a named prepared statement, so the server does not parse and plan it on every request either.
const withChangesQueries = new WeakMap<Kysely<Database>, CompiledQuery<RowWithChanges>>();

function withChangesQuery(db: Kysely<Database>): CompiledQuery<RowWithChanges> {
  let query = withChangesQueries.get(db);
  if (!query) {
    query = db
      .selectFrom('certificates as c')
      .select(COLUMNS.map((col) => `c.${col}` as const))
      .select(sql<ChangeCell[]>`(
        SELECT coalesce(json_agg(json_build_object('s', h.status, 'r', h.reason,
                 'e', floor(extract(epoch FROM h.effective_at) * 1000), 't', floor(extract(epoch FROM h.recorded_at) * 1000)) ORDER BY h.effective_at, h.id), '[]')
        FROM certificate_status_changes h WHERE h.serial = c.serial)`.as('changes'))
      .where('c.serial', '=', '')
      .compile();
    preparedStatement(query.sql);
    withChangesQueries.set(db, query);
  }
  return query;
}

/**
 * One certificate and its status history in one round trip (the status route's hot path): the
 * history comes as a JSON array with instants in epoch milliseconds, in the order of statusChanges().
 */
export async function findCertificateWithChanges(db: Kysely<Database>, serial: string): Promise<{ record: CertificateRecord; changes: StatusChange[] } | undefined> {
  const { rows } = await db.executeQuery<RowWithChanges>({ ...withChangesQuery(db), parameters: [serial] });
  const row = rows[0];
  if (!row) return undefined;
  const changes = row.changes.map((h) => ({ status: h.s as StoredStatus, reason: h.r, effectiveAt: new Date(h.e), recordedAt: new Date(h.t) }));
  return { record: toRecord(row), changes };
}

export async function certificateDer(db: Kysely<Database>, serial: string): Promise<Uint8Array | undefined> {
  const row = await db.selectFrom('certificates').select('der').where('serial', '=', serial).executeTakeFirst();
  return row?.der;
}

const certificatesOfResidentQuery = preparedQuery((db) =>
  db.selectFrom('certificates').select(COLUMNS).where('resident_code', '=', '').orderBy('issued_at').orderBy('serial').compile());

/** Every certificate a resident holds or held, oldest first. */
export async function certificatesOfResident(db: Kysely<Database>, residentCode: string): Promise<CertificateRecord[]> {
  return (await certificatesOfResidentQuery(db, [residentCode])).rows.map(toRecord);
}

/** The certificates of these residents, locked FOR UPDATE in serial order (a batch chunk revokes from them). */
export async function lockCertificatesOfResidents(db: Kysely<Database>, residentCodes: string[]): Promise<CertificateRecord[]> {
  if (residentCodes.length === 0) return [];
  const rows = await db.selectFrom('certificates').select(COLUMNS).where('resident_code', 'in', [...new Set(residentCodes)]).orderBy('serial').forUpdate().execute();
  return rows.map(toRecord).sort((a, b) => a.issuedAt.getTime() - b.issuedAt.getTime() || (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0));
}

export async function statusChanges(db: Kysely<Database>, serial: string): Promise<StatusChange[]> {
  const rows = await db
    .selectFrom('certificate_status_changes')
    .select(['status', 'reason', 'effective_at', 'recorded_at'])
    .where('serial', '=', serial)
    .orderBy('effective_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ status: r.status as StoredStatus, reason: r.reason, effectiveAt: r.effective_at, recordedAt: r.recorded_at }));
}

/** Good certificates expiring in [from, to], by (expires_on, serial) after the cursor. */
export async function goodCertificatesExpiringBetween(
  db: Kysely<Database>,
  from: string,
  to: string,
  after: { expiresOn: string; serial: string } | undefined,
  limit: number,
): Promise<CertificateRecord[]> {
  let q = db
    .selectFrom('certificates')
    .select(COLUMNS)
    .where('status', '=', 'good')
    .where('expires_on', '>=', from)
    .where('expires_on', '<=', to)
    .orderBy('expires_on')
    .orderBy('serial')
    .limit(limit);
  if (after) {
    q = q.where((eb) =>
      eb.or([eb('expires_on', '>', after.expiresOn), eb.and([eb('expires_on', '=', after.expiresOn), eb('serial', '>', after.serial)])]),
    );
  }
  return (await q.execute()).map(toRecord);
}
