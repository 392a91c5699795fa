import type { Kysely } from 'kysely';
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

function toResident(r: {
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

export async function insertResident(db: Kysely<Database>, r: Resident): Promise<void> {
  await db
    .insertInto('residents')
    .values({ resident_code: r.residentCode, registered_at: r.registeredAt, ...factColumns(r) })
    .execute();
}

export async function updateResident(db: Kysely<Database>, r: Resident): Promise<void> {
  await db.updateTable('residents').set(factColumns(r)).where('resident_code', '=', r.residentCode).execute();
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

/**
 * Claims an event id in the caller's transaction; a concurrent claim of the same id waits for the
 * first to end. Returns the stored event when the id was already used.
 */
export async function claimResidentEvent(db: Kysely<Database>, e: Omit<StoredResidentEvent, 'response'>): Promise<StoredResidentEvent | undefined> {
  const inserted = await db
    .insertInto('resident_events')
    .values({
      event_id: e.eventId,
      resident_code: e.residentCode,
      type: e.type,
      effective_at: e.effectiveAt,
      received_at: e.receivedAt,
      data: JSON.stringify(e.data),
      request_hash: e.requestHash,
      response: 'null',
    })
    .onConflict((oc) => oc.column('event_id').doNothing())
    .returning('event_id')
    .executeTakeFirst();
  if (inserted) return undefined;
  const row = await db.selectFrom('resident_events').selectAll().where('event_id', '=', e.eventId).executeTakeFirstOrThrow();
  return toStoredEvent(row);
}

export async function storeResidentEventResponse(db: Kysely<Database>, eventId: string, response: unknown): Promise<void> {
  await db.updateTable('resident_events').set({ response: JSON.stringify(response) }).where('event_id', '=', eventId).execute();
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
