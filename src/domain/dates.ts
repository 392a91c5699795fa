import { Temporal } from 'temporal-polyfill';
import { DomainError } from './errors.js';

/**
 * Japan has had no daylight saving since 1951, so a fixed offset is exact for
 * every date the service deals with and avoids depending on the host's tz data.
 */
export const TOKYO_OFFSET = '+09:00';

export type PlainDate = Temporal.PlainDate;
export type Instant = Temporal.Instant;

const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** Strict `YYYY-MM-DD`: Temporal alone would also accept times, week dates and 31 Feb constrained. */
export function parseDate(text: string): PlainDate {
  if (!DATE_PATTERN.test(text)) {
    throw new DomainError('invalidDate', `not a YYYY-MM-DD date: ${JSON.stringify(text)}`);
  }
  try {
    return Temporal.PlainDate.from(text, { overflow: 'reject' });
  } catch {
    throw new DomainError('invalidDate', `no such date: ${text}`);
  }
}

/** The Japan civil date an instant falls on. */
export function tokyoDateOf(instant: Instant): PlainDate {
  return instant.toZonedDateTimeISO(TOKYO_OFFSET).toPlainDate();
}

/** The instant a Japan wall-clock time (`HH:MM` or `HH:MM:SS`) occurs on a date. */
export function tokyoInstant(date: PlainDate, time: string): Instant {
  return date
    .toZonedDateTime({ timeZone: TOKYO_OFFSET, plainTime: Temporal.PlainTime.from(time) })
    .toInstant();
}

/** 00:00 Japan time: when a date begins (ages, openings by date). */
export function startOfTokyoDay(date: PlainDate): Instant {
  return tokyoInstant(date, '00:00');
}

/** RFC 3339 with the Japan offset, the form the API shows instants in. */
export function formatTokyoInstant(instant: Instant): string {
  return instant.toString({ timeZone: TOKYO_OFFSET });
}

export function earlierDate(a: PlainDate, b: PlainDate): PlainDate {
  return Temporal.PlainDate.compare(a, b) <= 0 ? a : b;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Whether `year-month-day` exists, without constraining it to the month's end. */
export function dateExists(year: number, month: number, day: number): boolean {
  return day >= 1 && day <= Temporal.PlainYearMonth.from({ year, month }).daysInMonth;
}
