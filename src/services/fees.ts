import type { Kysely } from 'kysely';
import type { PlainDate } from '../domain/dates.js';
import {
  newFeeScheduleProblems,
  quoteFee as quoteFromSchedules,
  type FeeExemption,
  type FeeItem,
  type FeeProcedure,
  type FeeSchedule,
} from '../domain/fees.js';
import * as repo from '../db/repositories/fee-schedules.js';
import { appendAudit } from '../db/repositories/audit-log.js';
import type { Database } from '../db/schema.js';
import { Problem } from '../problems.js';
import { civilDate, tokyoDate } from './time.js';
import type { Actor, ServiceContext } from './context.js';
import { runIdempotent, type IdempotentRequest } from './idempotency.js';
import { allFeeSchedules, referenceDataChanged } from './reference-data.js';

/** A quote as the API shows it; amounts in yen. */
export interface FeeQuoteView {
  procedure: FeeProcedure;
  on: string;
  currency: 'JPY';
  total: number;
  lines: { item: FeeItem; amount: number }[];
  /** The exemption that made the quote free; null when none was given or it does not apply to the procedure. */
  exemption: FeeExemption | null;
  scheduleEffectiveFrom: string;
}

export type FeeTable = Record<FeeProcedure, { item: FeeItem; amount: number }[]>;

export interface FeeScheduleView {
  effectiveFrom: string;
  fees: FeeTable;
  createdAt: string;
}

/**
 * What `procedure` costs on `on` (a Japan date) under the schedule in force that day, with
 * `exemption` applied when it covers the procedure. The schedules come from memory when they can
 * (src/services/reference-data.ts); `db`, which may be the use case's transaction, reads them otherwise. Throws DomainError noFeeScheduleInEffect (before the first schedule) or
 * invalidDate (a malformed string).
 */
export async function quoteFee(
  ctx: ServiceContext,
  db: Kysely<Database>,
  procedure: FeeProcedure,
  on: PlainDate | string,
  exemption?: FeeExemption | null,
): Promise<FeeQuoteView> {
  const date = civilDate(on);
  const schedules = await allFeeSchedules(ctx, db);
  const quote = quoteFromSchedules(schedules, procedure, date, exemption);
  return {
    procedure: quote.procedure,
    on: date.toString(),
    currency: 'JPY',
    total: quote.total,
    lines: quote.lines.map((l) => ({ item: l.item, amount: l.amount })),
    exemption: quote.exemption,
    scheduleEffectiveFrom: quote.scheduleEffectiveFrom.toString(),
  };
}

/** POST /v1/fees/quote: `on` defaults to today in Japan by the service clock. */
export function quoteFeeFor(
  ctx: ServiceContext,
  input: { procedure: FeeProcedure; on?: string | undefined; exemption?: FeeExemption | null | undefined },
): Promise<FeeQuoteView> {
  return quoteFee(ctx, ctx.db, input.procedure, input.on ?? tokyoDate(ctx.clock.now()), input.exemption);
}

function view(s: repo.StoredFeeSchedule): FeeScheduleView {
  const fees = Object.fromEntries(
    Object.entries(s.schedule.fees).map(([procedure, lines]) => [procedure, lines.map((l) => ({ item: l.item, amount: l.amount }))]),
  ) as FeeTable;
  return { effectiveFrom: s.schedule.effectiveFrom.toString(), fees, createdAt: s.createdAt.toISOString() };
}

export async function listFeeSchedules(ctx: ServiceContext, afterEffectiveFrom: string | undefined, limit: number): Promise<FeeScheduleView[]> {
  return (await repo.listFeeSchedules(ctx.db, afterEffectiveFrom, limit)).map(view);
}

/**
 * Adds a schedule in force from `effectiveFrom` (today or later: quotes already given stay true)
 * until the next one starts. A date that already has a schedule is 409; nothing is ever replaced.
 */
export async function createFeeSchedule(
  ctx: ServiceContext,
  actor: Actor,
  request: IdempotentRequest,
  input: { effectiveFrom: string; fees: FeeTable },
) {
  // This process quotes from the new schedule from the next request on; the others when the NOTIFY arrives.
  try {
    return await createFeeScheduleInTransaction(ctx, actor, request, input);
  } finally {
    referenceDataChanged(ctx);
  }
}

function createFeeScheduleInTransaction(ctx: ServiceContext, actor: Actor, request: IdempotentRequest, input: { effectiveFrom: string; fees: FeeTable }) {
  return runIdempotent<FeeScheduleView>(ctx, actor, request, async (trx) => {
    const now = ctx.clock.now();
    const today = tokyoDate(now);
    const candidate: FeeSchedule = { effectiveFrom: civilDate(input.effectiveFrom), fees: input.fees };
    const existing = (await repo.listFeeSchedules(trx)).map((s) => s.schedule);
    const problems = newFeeScheduleProblems(existing, candidate, today);
    if (problems.includes('effectiveFromInPast')) {
      throw new Problem(422, 'effectiveFromInPast', 'A fee schedule cannot start in the past',
        `effectiveFrom ${input.effectiveFrom} is before today (${today.toString()}, Japan time): quotes already given must stay true.`);
    }
    if (problems.includes('amountNotWholeYen')) {
      throw new Problem(422, 'amountNotWholeYen', 'Amounts must be whole yen', 'Every amount must be a non-negative whole number of yen.');
    }
    if (problems.includes('effectiveFromTaken') || !(await repo.insertFeeSchedule(trx, candidate, now))) {
      throw new Problem(409, 'feeScheduleExists', 'A fee schedule already starts on that date',
        `A schedule effective from ${input.effectiveFrom} exists and is never replaced; choose another date.`);
    }
    await appendAudit(trx, {
      at: now, keyId: actor.keyId, action: 'feeSchedule.created', resource: `fees/schedules/${input.effectiveFrom}`,
      requestId: actor.requestId, detail: { fees: input.fees },
    });
    return { status: 201, body: view({ schedule: candidate, createdAt: now }) };
  });
}
