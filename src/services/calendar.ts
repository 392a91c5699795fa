import type { Kysely } from 'kysely';
import {
  MAX_SCHEDULE_DAYS,
  isOpenAt,
  officeSchedule,
  type CalendarClosure,
  type DaySchedule,
  type OpenState,
} from '../domain/calendar.js';
import { inquiryAnswerDeadline, type AnswerDeadline } from '../domain/civil-period.js';
import type { PlainDate } from '../domain/dates.js';
import type { DomainPolicy } from '../domain/policy.js';
import { appendAudit } from '../db/repositories/audit-log.js';
import * as closures from '../db/repositories/calendar-closures.js';
import * as offices from '../db/repositories/offices.js';
import type { Database } from '../db/schema.js';
import { Problem } from '../problems.js';
import { civilDate, toInstant, rfc3339, tokyoDate } from './time.js';
import { inTransaction, type Actor, type ServiceContext } from './context.js';
import { closuresBetween, officeById, referenceDataChanged } from './reference-data.js';

export interface OfficeView {
  officeId: string;
  name: string;
  nameEn: string;
  kind: offices.OfficeKind;
  hours: {
    weekday: { opensAt: string; closesAt: string };
    tuesday: { opensAt: string; closesAt: string };
    fourthSunday: { opensAt: string; closesAt: string } | null;
  };
}

export interface DayView {
  date: string;
  open: boolean;
  intervals: { opensAt: string; closesAt: string }[];
  reason?: string;
}

export interface OpenStateView {
  open: boolean;
  closesAt?: string;
  nextOpensAt: string | null;
}

export interface ClosureView {
  date: string;
  officeId: string | null;
  reason: 'maintenance';
  note: string | null;
  createdAt: string;
}

function officeView(o: offices.OfficeRecord): OfficeView {
  const h = (x: { opensAt: string; closesAt: string }) => ({ opensAt: x.opensAt, closesAt: x.closesAt });
  return {
    officeId: o.id,
    name: o.name,
    nameEn: o.nameEn,
    kind: o.kind,
    hours: { weekday: h(o.weekdayHours), tuesday: h(o.tuesdayHours), fourthSunday: o.fourthSundayHours && h(o.fourthSundayHours) },
  };
}

function dayView(d: DaySchedule): DayView {
  return {
    date: d.date.toString(),
    open: d.open,
    intervals: d.intervals.map((i) => ({ opensAt: rfc3339(i.opensAt), closesAt: rfc3339(i.closesAt) })),
    ...(d.open ? {} : { reason: d.reason }),
  };
}

function openStateView(s: OpenState): OpenStateView {
  return {
    open: s.open,
    ...(s.closesAt ? { closesAt: rfc3339(s.closesAt) } : {}),
    nextOpensAt: s.nextOpensAt ? rfc3339(s.nextOpensAt) : null,
  };
}

function closureView(c: closures.StoredClosure): ClosureView {
  return { date: c.date.toString(), officeId: c.officeId, reason: c.reason, note: c.note, createdAt: c.createdAt.toISOString() };
}

const officeNotFound = (officeId: string) =>
  new Problem(404, 'officeNotFound', 'Office not found', `No office ${JSON.stringify(officeId)}; GET /v1/offices lists them.`, { officeId });

/** The office, from memory when it can be (src/services/reference-data.ts); `db` may be a transaction. */
async function requireOffice(ctx: ServiceContext, db: Kysely<Database>, officeId: string): Promise<offices.OfficeRecord> {
  const office = await officeById(ctx, db, officeId);
  if (!office) throw officeNotFound(officeId);
  return office;
}

/** The closures an opening answer at `date` may depend on: that day and the year after it (next opening). */
function closuresFrom(ctx: ServiceContext, db: Kysely<Database>, date: PlainDate): Promise<readonly CalendarClosure[]> {
  return closuresBetween(ctx, db, date, date.add({ days: MAX_SCHEDULE_DAYS + 1 }));
}

/**
 * Refuses a counter procedure at `at` when the ward enforces opening hours (policy
 * ENFORCE_OPENING_HOURS) and the office is closed then: Problem 422 `officeClosed` with
 * `nextOpensAt`. An unknown office is always Problem 404 `officeNotFound`. `db` may be a transaction.
 */
export async function assertCounterOpen(ctx: ServiceContext, db: Kysely<Database>, policy: DomainPolicy, officeId: string, at: Date): Promise<void> {
  const office = await requireOffice(ctx, db, officeId);
  if (!policy.enforceOpeningHours) return;
  const instant = toInstant(at);
  const state = isOpenAt(office, instant, await closuresFrom(ctx, db, tokyoDate(at)));
  if (state.open) return;
  const next = state.nextOpensAt ? rfc3339(state.nextOpensAt) : null;
  throw new Problem(422, 'officeClosed', 'The office is closed',
    `The counter at ${office.nameEn} is closed at ${rfc3339(instant)}${next ? `; it next opens at ${next}` : ''}.`,
    { officeId, at: rfc3339(instant), nextOpensAt: next });
}

/**
 * The answer deadline of an inquiry letter (照会書兼回答書) mailed on `mailedOn`: the 民法 140/143
 * period of INQUIRY_ANSWER_MONTHS, moved to the next day every counter opens on weekday hours when
 * DEADLINE_ROLLS_TO_NEXT_OPEN_DAY is on, using the offices and closures stored. `db` may be a transaction.
 */
export async function inquiryDueOn(db: Kysely<Database>, policy: DomainPolicy, mailedOn: PlainDate | string): Promise<AnswerDeadline> {
  const mailed = civilDate(mailedOn);
  const [all, closed] = await Promise.all([offices.listOffices(db), closures.listClosures(db, { from: mailed })]);
  return inquiryAnswerDeadline(mailed, all, closed, policy);
}

export async function listOffices(ctx: ServiceContext, afterPosition: number | undefined, limit: number): Promise<(OfficeView & { position: number })[]> {
  return (await offices.listOffices(ctx.db, afterPosition, limit)).map((o) => ({ ...officeView(o), position: o.position }));
}

/** Each day from `from` to `to` (both included, at most 366 days). */
export async function officeScheduleView(ctx: ServiceContext, officeId: string, from: string, to: string): Promise<{ officeId: string; from: string; to: string; days: DayView[] }> {
  const first = civilDate(from);
  const last = civilDate(to);
  const office = await requireOffice(ctx, ctx.db, officeId);
  const closed = await closures.listClosures(ctx.db, { from: first, to: last });
  return { officeId, from, to, days: officeSchedule(office, first, last, closed).map(dayView) };
}

/** Whether the office is open at `at` (default: now by the service clock). */
export async function officeOpenView(ctx: ServiceContext, officeId: string, at: string | undefined): Promise<OpenStateView> {
  const moment = at ? new Date(at) : ctx.clock.now();
  // RFC 3339 allows a leap second (…:60), which a JS Date cannot hold.
  if (Number.isNaN(moment.getTime())) throw new Problem(400, 'invalidInstant', 'Invalid instant', '`at` is not an instant this service can represent.');
  const office = await requireOffice(ctx, ctx.db, officeId);
  return openStateView(isOpenAt(office, toInstant(moment), await closuresFrom(ctx, ctx.db, tokyoDate(moment))));
}

export async function listClosures(
  ctx: ServiceContext,
  q: { from?: string | undefined; to?: string | undefined; after?: { date: string; officeId: string } | undefined; limit: number },
): Promise<ClosureView[]> {
  const from = q.from === undefined ? undefined : civilDate(q.from);
  const to = q.to === undefined ? undefined : civilDate(q.to);
  if (from && to && from.until(to).days < 0) {
    throw new Problem(400, 'invalidRange', 'Invalid range', '`from` is after `to`.');
  }
  const rows = await closures.listClosures(ctx.db, {
    limit: q.limit,
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(q.after ? { after: q.after } : {}),
  });
  return rows.map(closureView);
}

function assertNotPast(ctx: ServiceContext, date: PlainDate): void {
  const today = tokyoDate(ctx.clock.now());
  if (today.until(date).days < 0) {
    throw new Problem(422, 'closureInPast', 'Past days cannot be changed',
      `${date.toString()} is before today (${today.toString()}, Japan time): deadlines and answers already given must stay true.`);
  }
}

/** PUT: closes `date` for maintenance at one office, or at every office when `officeId` is absent. */
export async function putClosure(
  ctx: ServiceContext,
  actor: Actor,
  date: string,
  input: { officeId?: string | undefined; note?: string | undefined },
): Promise<{ status: 200 | 201; body: ClosureView }> {
  const day = civilDate(date);
  const officeId = input.officeId ?? null;
  // This process sees the change from the next request on; the others when the NOTIFY arrives.
  try {
    return await putClosureInTransaction(ctx, actor, day, date, officeId, input.note ?? null);
  } finally {
    referenceDataChanged(ctx);
  }
}

function putClosureInTransaction(ctx: ServiceContext, actor: Actor, day: PlainDate, date: string, officeId: string | null, note: string | null) {
  return inTransaction(ctx, async (trx) => {
    const now = ctx.clock.now();
    assertNotPast(ctx, day);
    if (officeId !== null && !(await offices.findOffice(trx, officeId))) {
      throw new Problem(422, 'unknownOffice', 'Unknown office', `No office ${JSON.stringify(officeId)}; GET /v1/offices lists them.`, { officeId });
    }
    const before = await closures.findClosure(trx, day, officeId);
    await closures.putClosure(trx, { date: day, officeId, note, createdAt: now });
    const after = await closures.findClosure(trx, day, officeId);
    if (!after) throw new Error('closure vanished inside its transaction');
    await appendAudit(trx, {
      at: now, keyId: actor.keyId, action: before ? 'calendarClosure.updated' : 'calendarClosure.created',
      resource: `calendar/closures/${date}`, requestId: actor.requestId, detail: { officeId },
    });
    return { status: before ? 200 as const : 201 as const, body: closureView(after) };
  });
}

/** DELETE: reopens a day closed for maintenance (404 when there is no such closure). */
export async function deleteClosure(ctx: ServiceContext, actor: Actor, date: string, officeId: string | undefined): Promise<void> {
  const day = civilDate(date);
  try {
    await deleteClosureInTransaction(ctx, actor, day, date, officeId);
  } finally {
    referenceDataChanged(ctx);
  }
}

async function deleteClosureInTransaction(ctx: ServiceContext, actor: Actor, day: PlainDate, date: string, officeId: string | undefined): Promise<void> {
  await inTransaction(ctx, async (trx) => {
    const now = ctx.clock.now();
    assertNotPast(ctx, day);
    if (!(await closures.deleteClosure(trx, day, officeId ?? null))) {
      throw new Problem(404, 'closureNotFound', 'Closure not found',
        `No closure on ${date} for ${officeId ? `office ${JSON.stringify(officeId)}` : 'every office'}.`);
    }
    await appendAudit(trx, {
      at: now, keyId: actor.keyId, action: 'calendarClosure.deleted', resource: `calendar/closures/${date}`,
      requestId: actor.requestId, detail: { officeId: officeId ?? null },
    });
  });
}
