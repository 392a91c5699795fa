import { Temporal } from 'temporal-polyfill';
import { isLeapYear, type PlainDate } from './dates.js';
import { DomainError } from './errors.js';
import type { Feb29BirthdayInCommonYear } from './policy.js';

/*
 * Birthdays used for certificate and card expiry. Unlike ages (age.ts), the
 * expiry day of a 29 February birth in a common year is a ward policy.
 */

export function birthdayIn(
  birthDate: PlainDate,
  year: number,
  feb29: Feb29BirthdayInCommonYear,
): PlainDate {
  if (birthDate.month === 2 && birthDate.day === 29 && !isLeapYear(year)) {
    return Temporal.PlainDate.from(`${String(year).padStart(4, '0')}-${feb29}`);
  }
  return birthDate.with({ year });
}

/**
 * The Nth birthday strictly after `after`: a certificate issued on the
 * holder's birthday counts its first birthday a year later.
 */
export function nthBirthdayAfter(
  birthDate: PlainDate,
  after: PlainDate,
  n: number,
  feb29: Feb29BirthdayInCommonYear,
): PlainDate {
  if (!Number.isInteger(n) || n < 1) throw new RangeError('n must be a positive integer');
  if (Temporal.PlainDate.compare(after, birthDate) < 0) {
    throw new DomainError(
      'birthDateAfterReference',
      `${after.toString()} is before the birth date ${birthDate.toString()}`,
    );
  }
  const sameYear = birthdayIn(birthDate, after.year, feb29);
  const firstYear = Temporal.PlainDate.compare(sameYear, after) > 0 ? after.year : after.year + 1;
  return birthdayIn(birthDate, firstYear + n - 1, feb29);
}
