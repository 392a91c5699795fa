import type { Kysely } from 'kysely';
import { preparedQuery } from '../prepared-queries.js';
import type { Database } from '../schema.js';
import { toResident, type Resident } from './residents.js';

export type CardStatus = 'active' | 'lost' | 'abolished';

export interface Card {
  cardId: string;
  residentCode: string;
  issuedOn: string;
  expiresOn: string;
  status: CardStatus;
  stolen: boolean;
  officeId: string;
  receivedAt: Date;
  statusChangedAt: Date;
}

function toCard(r: {
  card_id: string; resident_code: string; issued_on: string; expires_on: string; status: string; stolen: boolean;
  office_id: string; received_at: Date; status_changed_at: Date;
}): Card {
  return {
    cardId: r.card_id,
    residentCode: r.resident_code,
    issuedOn: r.issued_on,
    expiresOn: r.expires_on,
    status: r.status as CardStatus,
    stolen: r.stolen,
    officeId: r.office_id,
    receivedAt: r.received_at,
    statusChangedAt: r.status_changed_at,
  };
}

export async function findCard(db: Kysely<Database>, cardId: string, lock = false): Promise<Card | undefined> {
  let q = db.selectFrom('cards').selectAll().where('card_id', '=', cardId);
  if (lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row && toCard(row);
}

const lockCardWithResidentQuery = preparedQuery((db) => db
  .selectFrom('cards as c')
  .innerJoin('residents as r', 'r.resident_code', 'c.resident_code')
  .selectAll('r')
  .select([
    'c.card_id', 'c.issued_on', 'c.expires_on', 'c.status as card_status', 'c.stolen', 'c.office_id', 'c.received_at', 'c.status_changed_at',
  ])
  .where('c.card_id', '=', '')
  .forUpdate(['r', 'c'])
  .compile());

/**
 * The card and its holder, both locked until the transaction ends, in one statement: the resident
 * row first, then the card (the lock order of every use case, so none can deadlock with another).
 * A lock waited for returns the rows as the other transaction committed them.
 */
export async function lockCardWithResident(db: Kysely<Database>, cardId: string): Promise<{ card: Card; resident: Resident } | undefined> {
  const row = (await lockCardWithResidentQuery(db, [cardId])).rows[0];
  return row && {
    resident: toResident(row),
    card: toCard({ ...row, status: row.card_status }),
  };
}

/** Cards not yet abolished (active or lost), newest first. */
export async function liveCardsOf(db: Kysely<Database>, residentCode: string): Promise<Card[]> {
  const rows = await db
    .selectFrom('cards')
    .selectAll()
    .where('resident_code', '=', residentCode)
    .where('status', '<>', 'abolished')
    .orderBy('issued_on', 'desc')
    .execute();
  return rows.map(toCard);
}

export async function countCardsOf(db: Kysely<Database>, residentCode: string): Promise<number> {
  const row = await db.selectFrom('cards').select((eb) => eb.fn.countAll<string>().as('n')).where('resident_code', '=', residentCode).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertCard(db: Kysely<Database>, c: Card): Promise<void> {
  await db
    .insertInto('cards')
    .values({
      card_id: c.cardId,
      resident_code: c.residentCode,
      issued_on: c.issuedOn,
      expires_on: c.expiresOn,
      status: c.status,
      stolen: c.stolen,
      office_id: c.officeId,
      received_at: c.receivedAt,
      status_changed_at: c.statusChangedAt,
    })
    .execute();
}

export async function setCardStatus(db: Kysely<Database>, cardId: string, status: CardStatus, at: Date, stolen?: boolean): Promise<void> {
  await db
    .updateTable('cards')
    .set({ status, status_changed_at: at, ...(stolen === undefined ? {} : { stolen }) })
    .where('card_id', '=', cardId)
    .execute();
}
