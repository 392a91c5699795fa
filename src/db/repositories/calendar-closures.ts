import type { Kysely } from 'kysely';
import { Temporal } from 'temporal-polyfill';
import type { CalendarClosure } from '../../domain/calendar.js';
import type { PlainDate } from '../../domain/dates.js';
import type { Database } from '../schema.js';

export interface StoredClosure extends CalendarClosure {
  readonly officeId: string | null;
  readonly reason: 'maintenance';
  readonly note: string | null;
  readonly createdAt: Date;
}

function toClosure(r: { date: string; office_id: string | null; note: string | null; created_at: Date }): StoredClosure {
  return { date: Temporal.PlainDate.from(r.date), officeId: r.office_id, reason: 'maintenance', note: r.note, createdAt: r.created_at };
}

export interface ClosureQuery {
  from?: PlainDate;
  to?: PlainDate;
  /** Keyset position: closures strictly after (date, officeId); a ward-wide closure ('') sorts first on its date. */
  after?: { date: string; officeId: string };
  limit?: number;
}

/** Closures by date, both ends included; the ward-wide one of a day before the per-office ones. */
export async function listClosures(db: Kysely<Database>, q: ClosureQuery = {}): Promise<StoredClosure[]> {
  let query = db
    .selectFrom('calendar_closures')
    .select(['date', 'office_id', 'note', 'created_at'])
    .orderBy('date')
    .orderBy((eb) => eb.fn.coalesce('office_id', eb.val('')));
  if (q.from) query = query.where('date', '>=', q.from.toString());
  if (q.to) query = query.where('date', '<=', q.to.toString());
  if (q.after) {
    const { date, officeId } = q.after;
    query = query.where((eb) =>
      eb.or([
        eb('date', '>', date),
        eb.and([eb('date', '=', date), eb(eb.fn.coalesce('office_id', eb.val('')), '>', officeId)]),
      ]),
    );
  }
  if (q.limit !== undefined) query = query.limit(q.limit);
  return (await query.execute()).map(toClosure);
}

export async function findClosure(db: Kysely<Database>, date: PlainDate, officeId: string | null): Promise<StoredClosure | undefined> {
  const row = await db
    .selectFrom('calendar_closures')
    .select(['date', 'office_id', 'note', 'created_at'])
    .where('date', '=', date.toString())
    .where('office_id', officeId === null ? 'is' : '=', officeId)
    .executeTakeFirst();
  return row && toClosure(row);
}

/** Inserts the closure for (date, office), or replaces its note when there is one. */
export async function putClosure(
  db: Kysely<Database>,
  closure: { date: PlainDate; officeId: string | null; note: string | null; createdAt: Date },
): Promise<void> {
  await db
    .insertInto('calendar_closures')
    .values({ date: closure.date.toString(), office_id: closure.officeId, note: closure.note, created_at: closure.createdAt })
    .onConflict((oc) =>
      (closure.officeId === null
        ? oc.column('date').where('office_id', 'is', null)
        : oc.columns(['date', 'office_id']).where('office_id', 'is not', null)
      ).doUpdateSet({ note: closure.note }),
    )
    .execute();
}

export async function deleteClosure(db: Kysely<Database>, date: PlainDate, officeId: string | null): Promise<boolean> {
  const result = await db
    .deleteFrom('calendar_closures')
    .where('date', '=', date.toString())
    .where('office_id', officeId === null ? 'is' : '=', officeId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}
