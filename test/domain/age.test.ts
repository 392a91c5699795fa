import fc from 'fast-check';
import t from 'tap';
import { Temporal } from 'temporal-polyfill';
import { ageAt, ageOn, dateAgeStarts, dayReachingAge } from '../../src/domain/age.js';
import { isLeapYear, startOfTokyoDay, tokyoInstant } from '../../src/domain/dates.js';
import { d, dateBetween } from './support.js';

t.test('DOMAIN.md: born 2011-12-01 is 14 all of 2026-11-30 and 15 from 2026-12-01', async (t) => {
  const born = d('2011-12-01');
  t.equal(ageOn(born, d('2026-11-30')), 14);
  t.equal(ageAt(born, tokyoInstant(d('2026-11-30'), '23:59:59.999999999')), 14);
  t.equal(ageAt(born, startOfTokyoDay(d('2026-12-01'))), 15);
  t.equal(ageOn(born, d('2026-12-01')), 15);
});

t.test('DOMAIN.md: a 29 February birth reaches a new age at 00:00 on 1 March in a common year', async (t) => {
  const born = d('2008-02-29');
  t.equal(ageOn(born, d('2026-02-28')), 17);
  t.equal(ageOn(born, d('2026-03-01')), 18);
  t.equal(dateAgeStarts(born, 18).toString(), '2026-03-01');
  t.equal(dayReachingAge(born, 18).toString(), '2026-02-28');
  t.equal(ageOn(born, d('2028-02-29')), 20);
  t.equal(dateAgeStarts(born, 20).toString(), '2028-02-29');
});

t.test('DOMAIN.md: "the day one reaches age N" is the day before the birthday', async (t) => {
  t.equal(dayReachingAge(d('2011-12-01'), 15).toString(), '2026-11-30');
  t.equal(dayReachingAge(d('2000-01-01'), 20).toString(), '2019-12-31');
});

t.test('age is 0 on the birth date and undefined before it', async (t) => {
  t.equal(ageOn(d('2026-01-15'), d('2026-01-15')), 0);
  t.throws(() => ageOn(d('2026-01-15'), d('2026-01-14')), RangeError);
});

t.test('property: ages change exactly at 00:00 of the birthday (1 March for 29 Feb in common years)', async () => {
  fc.assert(
    fc.property(dateBetween('1900-01-01', '2100-12-31'), fc.integer({ min: 1, max: 120 }), (born, n) => {
      const year = born.year + n;
      const expectedStart =
        born.month === 2 && born.day === 29 && !isLeapYear(year)
          ? Temporal.PlainDate.from({ year, month: 3, day: 1 })
          : Temporal.PlainDate.from({ year, month: born.month, day: born.day });
      const start = dateAgeStarts(born, n);
      const midnight = startOfTokyoDay(expectedStart);
      return (
        start.equals(expectedStart) &&
        ageOn(born, expectedStart) === n &&
        ageOn(born, expectedStart.subtract({ days: 1 })) === n - 1 &&
        ageAt(born, midnight) === n &&
        ageAt(born, midnight.subtract({ nanoseconds: 1 })) === n - 1
      );
    }),
    { numRuns: 5000 },
  );
});

t.test('exhaustive: every birth date of a leap and a common year ages on its own day', async (t) => {
  let checked = 0;
  for (const year of [2023, 2024]) {
    for (let born = d(`${year}-01-01`); born.year === year; born = born.add({ days: 1 })) {
      for (const later of [2025, 2026, 2027, 2028]) {
        const start = dateAgeStarts(born, later - year);
        if (ageOn(born, start) !== later - year || ageOn(born, start.subtract({ days: 1 })) !== later - year - 1) {
          t.fail(`${born.toString()} in ${later}`);
        }
        checked++;
      }
    }
  }
  t.equal(checked, (365 + 366) * 4);
});
