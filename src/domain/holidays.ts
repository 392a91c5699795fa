import holidayJp from '@holiday-jp/holiday_jp';
import type { PlainDate } from './dates.js';
import { DomainError } from './errors.js';

/*
 * National holidays (国民の祝日, substitute and citizens' holidays) come from
 * the maintained @holiday-jp dataset. Its `isHoliday(Date)` reads the host's
 * time zone, so we look up 'YYYY-MM-DD' keys ourselves. Holidays are decided
 * by law year by year, so a date outside the dataset is an error, not a guess.
 */

const HOLIDAY_KEYS: ReadonlySet<string> = new Set(Object.keys(holidayJp.holidays));
const years = [...HOLIDAY_KEYS].map((key) => Number(key.slice(0, 4)));

/**
 * Whole years the dataset covers, both ends included. Its last key, 2050-11-23 (a Wednesday, so no
 * substitute day), is the last national holiday of any year since 2019, so 2050 is covered whole.
 */
export const HOLIDAY_DATA_YEARS = Object.freeze({
  first: Math.min(...years),
  last: Math.max(...years),
});

export function isNationalHoliday(date: PlainDate): boolean {
  if (date.year < HOLIDAY_DATA_YEARS.first || date.year > HOLIDAY_DATA_YEARS.last) {
    throw new DomainError(
      'holidayDataOutOfRange',
      `national holidays are known for ${HOLIDAY_DATA_YEARS.first}–${HOLIDAY_DATA_YEARS.last} only, not ${date.year}`,
    );
  }
  return HOLIDAY_KEYS.has(date.toString());
}
