import type { Kysely } from 'kysely';
import { Temporal } from 'temporal-polyfill';
import type { FeeLine, FeeProcedure, FeeSchedule } from '../../domain/fees.js';
import type { Database } from '../schema.js';

export interface StoredFeeSchedule {
  schedule: FeeSchedule;
  createdAt: Date;
}

function toStored(r: { effective_from: string; fees: Record<string, { item: string; amount: number }[]>; created_at: Date }): StoredFeeSchedule {
  return {
    schedule: {
      effectiveFrom: Temporal.PlainDate.from(r.effective_from),
      fees: r.fees as unknown as Record<FeeProcedure, readonly FeeLine[]>,
    },
    createdAt: r.created_at,
  };
}

/** Every schedule, oldest first (there are a handful: one per change of ordinance). */
export async function listFeeSchedules(db: Kysely<Database>, afterEffectiveFrom?: string, limit?: number): Promise<StoredFeeSchedule[]> {
  let q = db.selectFrom('fee_schedules').select(['effective_from', 'fees', 'created_at']).orderBy('effective_from');
  if (afterEffectiveFrom) q = q.where('effective_from', '>', afterEffectiveFrom);
  if (limit !== undefined) q = q.limit(limit);
  return (await q.execute()).map(toStored);
}

/** False when a schedule with that date already exists (nothing is replaced). */
export async function insertFeeSchedule(db: Kysely<Database>, schedule: FeeSchedule, createdAt: Date): Promise<boolean> {
  const result = await db
    .insertInto('fee_schedules')
    .values({ effective_from: schedule.effectiveFrom.toString(), fees: JSON.stringify(schedule.fees), created_at: createdAt })
    .onConflict((oc) => oc.column('effective_from').doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}
