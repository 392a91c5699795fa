import type { CalendarClosure } from './calendar.js';
import { isAllCountersOpenDay } from './calendar.js';
import { dateExists, type PlainDate } from './dates.js';
import type { Office } from './offices.js';
import type { DomainPolicy } from './policy.js';

/**
 * Last day of a period of `months` months beginning on the day after
 * `from` (民法 140: the first day is not counted). By 民法 143 it ends on
 * the day before the day corresponding to the first counted day in the
 * last month, or on that month's last day when the month has no such day.
 * So from 1-15 (counting from 1-16) it ends on 2-15; from 1-30 (1-31) and
 * from 1-31 (2-1) at the end of February; and from 2-28 of a common year
 * (3-1) on 3-31, not on 3-28.
 */
export function civilPeriodEnd(from: PlainDate, months: number): PlainDate {
  if (!Number.isInteger(months) || months < 1) throw new RangeError('months must be a positive integer');
  const firstCounted = from.add({ days: 1 });
  const lastMonth = firstCounted.with({ day: 1 }).add({ months });
  return dateExists(lastMonth.year, lastMonth.month, firstCounted.day)
    ? lastMonth.with({ day: firstCounted.day }).subtract({ days: 1 })
    : lastMonth.with({ day: lastMonth.daysInMonth });
}

/** The first day on or after `date` on which every counter opens on weekday hours. */
export function nextAllCountersOpenDay(
  date: PlainDate,
  offices: readonly Office[],
  closures: readonly CalendarClosure[],
): PlainDate {
  let day = date;
  while (!isAllCountersOpenDay(offices, day, closures)) day = day.add({ days: 1 });
  return day;
}

export interface AnswerDeadline {
  /** The end of the 民法 period. */
  readonly periodEndsOn: PlainDate;
  /** The last day an answer is accepted, after rolling past closed days when the policy says so. */
  readonly dueOn: PlainDate;
}

/** Deadline for answering an inquiry letter (照会書兼回答書) mailed on `mailedOn`. */
export function inquiryAnswerDeadline(
  mailedOn: PlainDate,
  offices: readonly Office[],
  closures: readonly CalendarClosure[],
  policy: DomainPolicy,
): AnswerDeadline {
  const periodEndsOn = civilPeriodEnd(mailedOn, policy.inquiryAnswerMonths);
  const dueOn = policy.deadlineRollsToNextOpenDay
    ? nextAllCountersOpenDay(periodEndsOn, offices, closures)
    : periodEndsOn;
  return { periodEndsOn, dueOn };
}
