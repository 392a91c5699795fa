import fc from 'fast-check';
import { Temporal } from 'temporal-polyfill';
import { parseDate, type PlainDate } from '../../src/domain/dates.js';

export const d = (text: string): PlainDate => parseDate(text);

export function* eachDay(from: PlainDate, to: PlainDate): Generator<PlainDate> {
  for (let day = from; Temporal.PlainDate.compare(day, to) <= 0; day = day.add({ days: 1 })) {
    yield day;
  }
}

/** Any date in [from, to], uniformly: every day of leap and common years is reachable. */
export function dateBetween(from: string, to: string): fc.Arbitrary<PlainDate> {
  const start = d(from);
  const span = start.until(d(to), { largestUnit: 'days' }).days;
  return fc.integer({ min: 0, max: span }).map((offset) => start.add({ days: offset }));
}

export const daysBetween = (a: PlainDate, b: PlainDate): number =>
  a.until(b, { largestUnit: 'days' }).days;

/**
 * Years checked day by day: common and leap, and the century years where the
 * Gregorian rule bites (1900 and 2100 common, 2000 leap). Random dates cover the rest.
 */
export const EXHAUSTIVE_YEARS = [1900, 2000, 2023, 2024, 2100] as const;

export function* eachDayOfYears(years: readonly number[]): Generator<PlainDate> {
  for (const year of years) yield* eachDay(d(`${year}-01-01`), d(`${year}-12-31`));
}
