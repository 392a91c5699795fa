import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

export type Sex = 'male' | 'female';
export type ResidentStatus = 'active' | 'movedOutAbroad' | 'deceased';
export type Residence = 'domestic' | 'abroadWithContinuedUse';

export interface Resident {
  residentCode: string;
  name: string;
  alias: string | null;
  address: string;
  dateOfBirth: string;
  sex: Sex;
  adultWard: boolean;
  stayUntil: string | null;
  status: ResidentStatus;
  residence: Residence;
  registeredAt: Date;
  updatedAt: Date;
}

export function toResident(r: {
  resident_code: string; name: string; alias: string | null; address: string; date_of_birth: string; sex: string;
  adult_ward: boolean; stay_until: string | null; status: string; residence: string; registered_at: Date; updated_at: Date;
}): Resident {
  return {
    residentCode: r.resident_code,
    name: r.name,
    alias: r.alias,
    address: r.address,
    dateOfBirth: r.date_of_birth,
    sex: r.sex as Sex,
    adultWard: r.adult_ward,
    stayUntil: r.stay_until,
    status: r.status as ResidentStatus,
    residence: r.residence as Residence,
    registeredAt: r.registered_at,
    updatedAt: r.updated_at,
  };
}

/** With `lock`, the row is held until the transaction ends: events and issuances for one resident run one at a time. */
export async function findResident(db: Kysely<Database>, residentCode: string, lock = false): Promise<Resident | undefined> {
  let q = db.selectFrom('residents').selectAll().where('resident_code', '=', residentCode);
  if (lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row && toResident(row);
}

/** Every column but the key and registration time, as both insert and update write them. */
function factColumns(r: Resident) {
  return {
    name: r.name,
    alias: r.alias,
    address: r.address,
    date_of_birth: r.dateOfBirth,
    sex: r.sex,
    adult_ward: r.adultWard,
    stay_until: r.stayUntil,
    status: r.status,
    residence: r.residence,
    updated_at: r.updatedAt,
  };
}

/**
 * Locks the existing rows of these residents, in resident-code order, until the transaction ends,
 * and returns them. Taken first in a use case, before certificates, the CA row and the audit chain
 * head, so that a batch chunk never waits for a resident while holding those: single requests and
 * other batches cannot deadlock with it.
 */
export async function lockResidents(db: Kysely<Database>, residentCodes: string[]): Promise<Resident[]> {
  if (residentCodes.length === 0) return [];
  const rows = await db.selectFrom('residents').selectAll().where('resident_code', 'in', [...new Set(residentCodes)].sort()).orderBy('resident_code').forUpdate().execute();
  return rows.map(toResident);
}

export async function insertResidents(db: Kysely<Database>, residents: Resident[]): Promise<void> {
  if (residents.length === 0) return;
  await db
    .insertInto('residents')
    .values(residents.map((r) => ({ resident_code: r.residentCode, registered_at: r.registeredAt, ...factColumns(r) })))
    .execute();
}

/** Writes the facts of each resident in one statement. */
export async function updateResidents(db: Kysely<Database>, residents: Resident[]): Promise<void> {
  if (residents.length === 0) return;
  const rows = JSON.stringify(residents.map((r) => ({ resident_code: r.residentCode, ...factColumns(r), updated_at: r.updatedAt.toISOString() })));
  await sql`
    UPDATE residents r SET name = v.name, alias = v.alias, address = v.address, date_of_birth = v.date_of_birth, sex = v.sex,
      adult_ward = v.adult_ward, stay_until = v.stay_until, status = v.status, residence = v.residence, updated_at = v.updated_at
    FROM jsonb_to_recordset(${rows}::jsonb) AS v(resident_code text, name text, alias text, address text, date_of_birth date, sex text,
      adult_ward boolean, stay_until date, status text, residence text, updated_at timestamptz)
    WHERE r.resident_code = v.resident_code`.execute(db);
}

export interface StoredResidentEvent {
  eventId: string;
  residentCode: string;
  type: string;
  effectiveAt: Date;
  receivedAt: Date;
  data: Record<string, unknown>;
  requestHash: string;
  response: unknown;
}

function toStoredEvent(row: {
  event_id: string; resident_code: string; type: string; effective_at: Date; received_at: Date;
  data: Record<string, unknown>; request_hash: string; response: unknown;
}): StoredResidentEvent {
  return {
    eventId: row.event_id,
    residentCode: row.resident_code,
    type: row.type,
    effectiveAt: row.effective_at,
    receivedAt: row.received_at,
    data: row.data,
    requestHash: row.request_hash,
    response: row.response,
  };
}

/** The stored events among these ids (one query for a whole chunk). */
export async function findResidentEvents(db: Kysely<Database>, eventIds: string[]): Promise<Map<string, StoredResidentEvent>> {
  if (eventIds.length === 0) return new Map();
  const rows = await db.selectFrom('resident_events').selectAll().where('event_id', 'in', [...new Set(eventIds)]).execute();
  return new Map(rows.map((r) => [r.event_id, toStoredEvent(r)]));
}

/**
 * Records applied events with their answers. An id recorded meanwhile by a concurrent transaction
 * makes this wait for it and then fail with a unique violation (23505): the caller retries and
 * finds the event stored.
 */
export async function insertResidentEvents(db: Kysely<Database>, events: StoredResidentEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    await db
      .insertInto('resident_events')
      .values(events.slice(i, i + 1000).map((e) => ({
        event_id: e.eventId,
        resident_code: e.residentCode,
        type: e.type,
        effective_at: e.effectiveAt,
        received_at: e.receivedAt,
        data: JSON.stringify(e.data),
        request_hash: e.requestHash,
        response: JSON.stringify(e.response),
      })))
      .execute();
  }
}

export async function listResidentEvents(
  db: Kysely<Database>,
  residentCode: string,
  after: { receivedAt: string; eventId: string } | undefined,
  limit: number,
): Promise<StoredResidentEvent[]> {
  let q = db
    .selectFrom('resident_events')
    .selectAll()
    .where('resident_code', '=', residentCode)
    .orderBy('received_at')
    .orderBy('event_id')
    .limit(limit);
  if (after) {
    q = q.where((eb) =>
      eb.or([
        eb('received_at', '>', new Date(after.receivedAt)),
        eb.and([eb('received_at', '=', new Date(after.receivedAt)), eb('event_id', '>', after.eventId)]),
      ]),
    );
  }
  return (await q.execute()).map(toStoredEvent);
}
