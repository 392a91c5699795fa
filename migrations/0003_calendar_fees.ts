import { sql, type Kysely } from 'kysely';
import { DEFAULT_FEE_SCHEDULES } from '../src/domain/fees.js';
import { DEFAULT_OFFICES } from '../src/domain/offices.js';

/**
 * Dated fee schedules (fees change by ordinance: data, not code), the ward's offices with their
 * counter hours, and maintenance closures entered by staff. Seeded with DOMAIN.md's fee table
 * (effective 2016-01-01) and Shinjuku's main office and ten branch offices.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('fee_schedules')
    .addColumn('effective_from', 'date', (c) => c.primaryKey())
    // { [procedure]: [{ item, amount }] } in yen; every procedure present.
    .addColumn('fees', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();

  const hhmm = (column: string) => sql`${sql.ref(column)} ~ '^[0-2][0-9]:[0-5][0-9]$'`;
  await db.schema
    .createTable('offices')
    .addColumn('office_id', 'text', (c) => c.primaryKey())
    .addColumn('position', 'integer', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_en', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind IN ('main', 'branch')`))
    .addColumn('weekday_opens_at', 'text', (c) => c.notNull().check(hhmm('weekday_opens_at')))
    .addColumn('weekday_closes_at', 'text', (c) => c.notNull().check(hhmm('weekday_closes_at')))
    .addColumn('tuesday_opens_at', 'text', (c) => c.notNull().check(hhmm('tuesday_opens_at')))
    .addColumn('tuesday_closes_at', 'text', (c) => c.notNull().check(hhmm('tuesday_closes_at')))
    // 休日窓口 on the 4th Sunday; both null where it is not held.
    .addColumn('fourth_sunday_opens_at', 'text', (c) => c.check(hhmm('fourth_sunday_opens_at')))
    .addColumn('fourth_sunday_closes_at', 'text', (c) => c.check(hhmm('fourth_sunday_closes_at')))
    .addCheckConstraint('offices_fourth_sunday_both', sql`(fourth_sunday_opens_at IS NULL) = (fourth_sunday_closes_at IS NULL)`)
    .execute();

  await db.schema
    .createTable('calendar_closures')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('date', 'date', (c) => c.notNull())
    // null closes every office.
    .addColumn('office_id', 'text', (c) => c.references('offices.office_id'))
    .addColumn('reason', 'text', (c) => c.notNull().defaultTo('maintenance').check(sql`reason IN ('maintenance')`))
    .addColumn('note', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  // One closure per date and office, and one ward-wide closure per date (NULLs are distinct in a plain unique index).
  await db.schema.createIndex('calendar_closures_date_office').on('calendar_closures').columns(['date', 'office_id']).unique()
    .where(sql.ref('office_id'), 'is not', null).execute();
  await db.schema.createIndex('calendar_closures_date_all').on('calendar_closures').column('date').unique()
    .where(sql.ref('office_id'), 'is', null).execute();

  for (const schedule of DEFAULT_FEE_SCHEDULES) {
    await sql`INSERT INTO fee_schedules (effective_from, fees, created_at)
      VALUES (${schedule.effectiveFrom.toString()}, ${JSON.stringify(schedule.fees)}::jsonb, now())`.execute(db);
  }
  for (const [position, office] of DEFAULT_OFFICES.entries()) {
    await sql`INSERT INTO offices (office_id, position, name, name_en, kind,
        weekday_opens_at, weekday_closes_at, tuesday_opens_at, tuesday_closes_at, fourth_sunday_opens_at, fourth_sunday_closes_at)
      VALUES (${office.id}, ${position}, ${office.name}, ${office.nameEn}, ${office.id === 'main' ? 'main' : 'branch'},
        ${office.weekdayHours.opensAt}, ${office.weekdayHours.closesAt}, ${office.tuesdayHours.opensAt}, ${office.tuesdayHours.closesAt},
        ${office.fourthSundayHours?.opensAt ?? null}, ${office.fourthSundayHours?.closesAt ?? null})`.execute(db);
  }
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
