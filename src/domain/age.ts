import { Temporal } from 'temporal-polyfill';
import { tokyoDateOf, type Instant, type PlainDate } from './dates.js';

/*
 * 年齢計算ニ関スル法律 with 民法 143: age N is reached at the end of the day
 * before the Nth birthday, i.e. at 00:00 of the birthday. For a 29 February
 * birth in a common year there is no birthday; the day before the
 * "corresponding day" is 28 February, so the new age starts at 00:00 on
 * 1 March. Comparing (month, day) pairs gives exactly that: (2,28) < (2,29)
 * < (3,1). This is a statute, not the expiry-birthday policy in birthdays.ts.
 */

function monthDayBefore(a: PlainDate, b: PlainDate): boolean {
  return a.month < b.month || (a.month === b.month && a.day < b.day);
}

/** Age on a civil date: the count of birthdays on or before it (0 before the first). */
export function ageOn(birthDate: PlainDate, on: PlainDate): number {
  if (Temporal.PlainDate.compare(on, birthDate) < 0) {
    throw new RangeError(`${on.toString()} is before the birth date ${birthDate.toString()}`);
  }
  return on.year - birthDate.year - (monthDayBefore(on, birthDate) ? 1 : 0);
}

/** Age at a moment, counted on the Japan date of that moment. */
export function ageAt(birthDate: PlainDate, at: Instant): number {
  return ageOn(birthDate, tokyoDateOf(at));
}

/** The first date on which the person is `age` years old. */
export function dateAgeStarts(birthDate: PlainDate, age: number): PlainDate {
  const year = birthDate.year + age;
  const sameDay = birthDate.with({ year }, { overflow: 'constrain' });
  // Only a 29 February birth can be constrained, and then the age starts on 1 March.
  return sameDay.day === birthDate.day ? sameDay : sameDay.add({ days: 1 });
}

/** 満N歳に達した日: the statute's "day one reaches age N" is the day before the birthday. */
export function dayReachingAge(birthDate: PlainDate, age: number): PlainDate {
  return dateAgeStarts(birthDate, age).subtract({ days: 1 });
}
