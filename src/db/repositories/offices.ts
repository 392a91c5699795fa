import type { Kysely } from 'kysely';
import type { Office, OpeningHours } from '../../domain/offices.js';
import type { Database, OfficesTable } from '../schema.js';

export type OfficeKind = 'main' | 'branch';

export interface OfficeRecord extends Office {
  readonly kind: OfficeKind;
  readonly position: number;
}

function hours(opensAt: string | null, closesAt: string | null): OpeningHours | null {
  return opensAt && closesAt ? { opensAt, closesAt } : null;
}

function toOffice(r: OfficesTable): OfficeRecord {
  return {
    id: r.office_id,
    name: r.name,
    nameEn: r.name_en,
    kind: r.kind === 'main' ? 'main' : 'branch',
    position: r.position,
    weekdayHours: { opensAt: r.weekday_opens_at, closesAt: r.weekday_closes_at },
    tuesdayHours: { opensAt: r.tuesday_opens_at, closesAt: r.tuesday_closes_at },
    fourthSundayHours: hours(r.fourth_sunday_opens_at, r.fourth_sunday_closes_at),
  };
}

/** Offices in the ward's order (the main office first). */
export async function listOffices(db: Kysely<Database>, afterPosition?: number, limit?: number): Promise<OfficeRecord[]> {
  let q = db.selectFrom('offices').selectAll().orderBy('position');
  if (afterPosition !== undefined) q = q.where('position', '>', afterPosition);
  if (limit !== undefined) q = q.limit(limit);
  return (await q.execute()).map(toOffice);
}

export async function findOffice(db: Kysely<Database>, officeId: string): Promise<OfficeRecord | undefined> {
  const row = await db.selectFrom('offices').selectAll().where('office_id', '=', officeId).executeTakeFirst();
  return row && toOffice(row);
}
