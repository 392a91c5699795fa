// Reference data every counter procedure reads — the offices with their hours, the maintenance
// closures, the fee schedules — kept in memory: an issuance read all three (three of its fourteen
// statements) although they change a few times a year, by PUT/DELETE of a closure, POST of a fee
// schedule, or by hand for the offices (no route writes them).
//
// Correct across processes as the API-key cache is (src/services/cache-invalidation.ts): answers
// come from memory only while this process LISTENs; every write to those tables, through any
// process or by hand, sends NOTIFY reference_data_changed (migration 0011), which empties these
// caches when the writing transaction commits; the writing process empties its own at once
// (referenceDataChanged). A bounded TTL is the safety net. A miss reads through `db`, which may be
// the caller's transaction (a use case never waits for a second pool connection).
import type { Kysely } from 'kysely';
import type { CalendarClosure } from '../domain/calendar.js';
import type { PlainDate } from '../domain/dates.js';
import type { FeeSchedule } from '../domain/fees.js';
import * as closures from '../db/repositories/calendar-closures.js';
import * as feeSchedules from '../db/repositories/fee-schedules.js';
import * as offices from '../db/repositories/offices.js';
import type { Database } from '../db/schema.js';
import { BoundedCache, cacheBus } from './cache-invalidation.js';
import { serviceInstance, type ServiceContext } from './context.js';

const TTL_MS = 60_000;
/** Closure lists are kept per start date (one a day in practice). */
const CLOSURE_DATES_MAX = 64;

interface Caches {
  offices: BoundedCache<offices.OfficeRecord[]>;
  closures: BoundedCache<CalendarClosure[]>;
  fees: BoundedCache<FeeSchedule[]>;
}

const caches = new WeakMap<ServiceContext, Caches>();

function cachesOf(ctx: ServiceContext): Caches {
  let c = caches.get(serviceInstance(ctx));
  if (!c) {
    const bus = cacheBus(ctx);
    const fresh: Caches = {
      offices: new BoundedCache(bus, 1, TTL_MS),
      closures: new BoundedCache(bus, CLOSURE_DATES_MAX, TTL_MS),
      fees: new BoundedCache(bus, 1, TTL_MS),
    };
    // Any change empties all three: they change rarely, and a closure or a schedule may name an office.
    bus.on('reference_data_changed', () => {
      fresh.offices.clear();
      fresh.closures.clear();
      fresh.fees.clear();
    });
    caches.set(serviceInstance(ctx), (c = fresh));
  }
  return c;
}

async function cached<V>(ctx: ServiceContext, cache: BoundedCache<V>, key: string, read: () => Promise<V>): Promise<V> {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const generation = cacheBus(ctx).generation;
  const value = await read();
  cache.set(key, value, generation);
  return value;
}

/** Every office, in the ward's order. */
export function allOffices(ctx: ServiceContext, db: Kysely<Database>): Promise<readonly offices.OfficeRecord[]> {
  return cached(ctx, cachesOf(ctx).offices, 'all', () => offices.listOffices(db));
}

export async function officeById(ctx: ServiceContext, db: Kysely<Database>, officeId: string): Promise<offices.OfficeRecord | undefined> {
  return (await allOffices(ctx, db)).find((o) => o.id === officeId);
}

/** The closures from `from` to `to` (both included), as stored. */
export function closuresBetween(ctx: ServiceContext, db: Kysely<Database>, from: PlainDate, to: PlainDate): Promise<readonly CalendarClosure[]> {
  return cached(ctx, cachesOf(ctx).closures, `${from.toString()}/${to.toString()}`, () => closures.listClosures(db, { from, to }));
}

/** Every fee schedule, oldest first. */
export function allFeeSchedules(ctx: ServiceContext, db: Kysely<Database>): Promise<readonly FeeSchedule[]> {
  return cached(ctx, cachesOf(ctx).fees, 'all', async () => (await feeSchedules.listFeeSchedules(db)).map((s) => s.schedule));
}

/** After this process committed (or tried to commit) a change to reference data: it sees the change from the next read on. */
export function referenceDataChanged(ctx: ServiceContext): void {
  cacheBus(ctx).invalidate('reference_data_changed');
}
