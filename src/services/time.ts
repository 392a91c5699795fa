import { Temporal } from 'temporal-polyfill';
import { formatTokyoInstant, parseDate, startOfTokyoDay, tokyoDateOf, type Instant, type PlainDate } from '../domain/dates.js';
import { Problem } from '../problems.js';
import type { ServiceContext } from './context.js';

/** Bridges between JS Dates (storage, HTTP) and the domain's Temporal values. */
export const toInstant = (d: Date): Instant => Temporal.Instant.fromEpochMilliseconds(d.getTime());
export const toDate = (i: Instant): Date => new Date(i.epochMilliseconds);

// The Japan day last asked for, with its bounds (both from Temporal): nearly every call falls on the
// same day (every line of a batch asks for today), and the polyfill's conversion was ~2 % of a
// batch's CPU.
let lastDay: { start: number; end: number; date: PlainDate } | undefined;

export function tokyoDate(d: Date): PlainDate {
  const ms = d.getTime();
  if (lastDay && ms >= lastDay.start && ms < lastDay.end) return lastDay.date;
  const date = tokyoDateOf(toInstant(d));
  lastDay = { start: startOfTokyoDay(date).epochMilliseconds, end: startOfTokyoDay(date.add({ days: 1 })).epochMilliseconds, date };
  return date;
}

export const today = (ctx: ServiceContext): PlainDate => tokyoDate(ctx.clock.now());
export const civil = (s: string): PlainDate => parseDate(s);
/** A date given as a PlainDate or as strict `YYYY-MM-DD` (DomainError invalidDate otherwise). */
export const civilDate = (d: PlainDate | string): PlainDate => (typeof d === 'string' ? parseDate(d) : d);
export const rfc3339 = (i: Instant): string => formatTokyoInstant(i);

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Counter procedures happen now: a stated time more than a day from the service clock is refused,
 * so nothing can be back- or forward-dated (scenarios years ahead move the clock instead).
 */
export function assertNearNow(ctx: ServiceContext, field: string, at: Date): void {
  if (Math.abs(at.getTime() - ctx.clock.now().getTime()) > DAY_MS) {
    throw new Problem(422, 'timeOutOfRange', `${field} is too far from the service clock`,
      `${field} must lie within a day of the service's current time (${ctx.clock.now().toISOString()}).`, { field });
  }
}

/** An event may be reported late, but cannot take effect more than a day ahead. */
export function assertNotAhead(ctx: ServiceContext, field: string, at: Date): void {
  if (at.getTime() - ctx.clock.now().getTime() > DAY_MS) {
    throw new Problem(422, 'timeInFuture', `${field} is in the future`, `${field} may not be more than a day ahead of the service clock.`, { field });
  }
}
