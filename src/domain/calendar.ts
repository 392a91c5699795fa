import { Temporal } from 'temporal-polyfill';
import { tokyoDateOf, tokyoInstant, type Instant, type PlainDate } from './dates.js';
import { DomainError } from './errors.js';
import { isNationalHoliday } from './holidays.js';
import type { Office, OpeningHours } from './offices.js';
import type { DomainPolicy } from './policy.js';

/** Longest range one schedule request may span. */
export const MAX_SCHEDULE_DAYS = 366;

/**
 * A day staff closed, e.g. when the JPKI servers are down for maintenance.
 * Without `officeId` it closes every office; the 4th-Sunday opening is the
 * usual case but a closure may fall on any day.
 */
export interface CalendarClosure {
  readonly date: PlainDate;
  readonly officeId?: string | null | undefined;
}

export type ClosedReason = 'weekend' | 'holiday' | 'yearEnd' | 'maintenance';

/** Half-open: open at `opensAt`, closed again at `closesAt` sharp. */
export interface OpeningInterval {
  readonly opensAt: Instant;
  readonly closesAt: Instant;
}

export type DaySchedule =
  | { readonly date: PlainDate; readonly open: true; readonly intervals: readonly OpeningInterval[] }
  | {
      readonly date: PlainDate;
      readonly open: false;
      readonly intervals: readonly [];
      readonly reason: ClosedReason;
    };

export interface OpenState {
  readonly open: boolean;
  /** When the current opening ends; only while open. */
  readonly closesAt?: Instant;
  /** The next opening that starts after the asked moment; null if none within a year. */
  readonly nextOpensAt: Instant | null;
}

/** 年末年始: 29 December to 3 January. */
export function isYearEnd(date: PlainDate): boolean {
  return (date.month === 12 && date.day >= 29) || (date.month === 1 && date.day <= 3);
}

export function isFourthSunday(date: PlainDate): boolean {
  return date.dayOfWeek === 7 && date.day >= 22 && date.day <= 28;
}

function regularHours(office: Office, date: PlainDate): OpeningHours | null {
  if (date.dayOfWeek === 2) return office.tuesdayHours;
  if (date.dayOfWeek <= 5) return office.weekdayHours;
  return isFourthSunday(date) ? office.fourthSundayHours : null;
}

function closedBy(closures: readonly CalendarClosure[], office: Office, date: PlainDate): boolean {
  return closures.some(
    (c) => c.date.equals(date) && (c.officeId == null || c.officeId === office.id),
  );
}

/**
 * One office's day. The reason names the first rule that closes it, so a
 * maintenance closure is only reported on a day the office would have opened.
 */
export function daySchedule(
  office: Office,
  date: PlainDate,
  closures: readonly CalendarClosure[],
): DaySchedule {
  const closed = (reason: ClosedReason): DaySchedule => ({ date, open: false, intervals: [], reason });
  // Asked first so that a date beyond the holiday data fails even when the answer looks obvious.
  const holiday = isNationalHoliday(date);
  if (isYearEnd(date)) return closed('yearEnd');
  if (holiday) return closed('holiday');
  const hours = regularHours(office, date);
  if (!hours) return closed('weekend');
  if (closedBy(closures, office, date)) return closed('maintenance');
  return {
    date,
    open: true,
    intervals: [{ opensAt: tokyoInstant(date, hours.opensAt), closesAt: tokyoInstant(date, hours.closesAt) }],
  };
}

/** Every day from `from` to `to`, both included. */
export function officeSchedule(
  office: Office,
  from: PlainDate,
  to: PlainDate,
  closures: readonly CalendarClosure[],
): DaySchedule[] {
  const days = from.until(to, { largestUnit: 'days' }).days + 1;
  if (days < 1) throw new DomainError('invalidRange', '`from` is after `to`');
  if (days > MAX_SCHEDULE_DAYS) {
    throw new DomainError('invalidRange', `at most ${MAX_SCHEDULE_DAYS} days at a time`);
  }
  return Array.from({ length: days }, (_, i) => daySchedule(office, from.add({ days: i }), closures));
}

export function isOpenAt(
  office: Office,
  at: Instant,
  closures: readonly CalendarClosure[],
): OpenState {
  const today = tokyoDateOf(at);
  const current = daySchedule(office, today, closures).intervals.find(
    (i) => Temporal.Instant.compare(i.opensAt, at) <= 0 && Temporal.Instant.compare(at, i.closesAt) < 0,
  );
  let nextOpensAt: Instant | null = null;
  for (let i = 0; i <= MAX_SCHEDULE_DAYS && !nextOpensAt; i++) {
    const next = daySchedule(office, today.add({ days: i }), closures).intervals.find(
      (interval) => Temporal.Instant.compare(interval.opensAt, at) > 0,
    );
    nextOpensAt = next?.opensAt ?? null;
  }
  return current
    ? { open: true, closesAt: current.closesAt, nextOpensAt }
    : { open: false, nextOpensAt };
}

/** Whether a counter procedure may be done at that moment under the ward's policy. */
export function counterAcceptsAt(
  office: Office,
  at: Instant,
  closures: readonly CalendarClosure[],
  policy: DomainPolicy,
): boolean {
  return !policy.enforceOpeningHours || isOpenAt(office, at, closures).open;
}

/**
 * A weekday on which every counter opens: the day a resident can be sure to
 * find any office open. The main office's Sunday opening does not make one.
 */
export function isAllCountersOpenDay(
  offices: readonly Office[],
  date: PlainDate,
  closures: readonly CalendarClosure[],
): boolean {
  // With no offices every weekday would qualify, holidays included.
  if (offices.length === 0) throw new RangeError('at least one office is needed');
  return date.dayOfWeek <= 5 && offices.every((office) => daySchedule(office, date, closures).open);
}
