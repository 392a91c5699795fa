import fc from 'fast-check';
import t from 'tap';
import { Temporal } from 'temporal-polyfill';
import { daySchedule, type CalendarClosure } from '../../src/domain/calendar.js';
import { civilPeriodEnd, inquiryAnswerDeadline, nextAllCountersOpenDay } from '../../src/domain/civil-period.js';
import { dateExists, type PlainDate } from '../../src/domain/dates.js';
import { DEFAULT_OFFICES } from '../../src/domain/offices.js';
import { DEFAULT_DOMAIN_POLICY, domainPolicy } from '../../src/domain/policy.js';
import { d, dateBetween, eachDay, eachDayOfYears, EXHAUSTIVE_YEARS } from './support.js';

const deadline = (mailed: string, closures: CalendarClosure[] = [], policy = DEFAULT_DOMAIN_POLICY) => {
  const { periodEndsOn, dueOn } = inquiryAnswerDeadline(d(mailed), DEFAULT_OFFICES, closures, policy);
  return [periodEndsOn.toString(), dueOn.toString()];
};

t.test('DOMAIN.md: mailed 1-15 → due 2-15; mailed 1-30 or 1-31 → due end of February', async (t) => {
  for (const year of [2026, 2024]) {
    const endOfFebruary = year === 2024 ? `${year}-02-29` : `${year}-02-28`;
    t.equal(civilPeriodEnd(d(`${year}-01-15`), 1).toString(), `${year}-02-15`);
    t.equal(civilPeriodEnd(d(`${year}-01-30`), 1).toString(), endOfFebruary);
    t.equal(civilPeriodEnd(d(`${year}-01-31`), 1).toString(), endOfFebruary);
  }
});

t.test('民法 143 cases beyond the examples', async (t) => {
  t.equal(civilPeriodEnd(d('2026-01-29'), 1).toString(), '2026-02-28', '1-30 has no day in February');
  t.equal(civilPeriodEnd(d('2024-01-28'), 1).toString(), '2024-02-28', 'counted from 1-29; 2-29 exists');
  t.equal(civilPeriodEnd(d('2026-02-28'), 1).toString(), '2026-03-31', 'counted from 3-1: the whole of March');
  t.equal(civilPeriodEnd(d('2026-12-15'), 1).toString(), '2027-01-15', 'across the year');
  t.equal(civilPeriodEnd(d('2026-11-30'), 3).toString(), '2027-02-28', 'three months, no 2-31');
  t.throws(() => civilPeriodEnd(d('2026-01-15'), 0), RangeError);
});

t.test('issue 8: due dates on closed days roll to the next day all counters open', async (t) => {
  t.same(deadline('2026-01-30'), ['2026-02-28', '2026-03-02'], 'Saturday → Monday');
  t.same(deadline('2026-01-15'), ['2026-02-15', '2026-02-16'], 'Sunday → Monday');
  t.same(deadline('2026-01-21'), ['2026-02-21', '2026-02-24'], 'Saturday, Sunday, then the Emperor’s Birthday');
  t.same(deadline('2026-01-22'), ['2026-02-22', '2026-02-24'], 'the main office’s 4th-Sunday opening does not count');
  t.same(deadline('2026-11-28'), ['2026-12-28', '2026-12-28'], 'an open day stays');
  t.same(deadline('2026-11-29'), ['2026-12-29', '2027-01-04'], 'over the year end');
  t.same(deadline('2026-04-02'), ['2026-05-02', '2026-05-07'], 'over Golden Week');
});

t.test('a maintenance closure at any counter also rolls the deadline', async (t) => {
  t.same(deadline('2026-01-16', [{ date: d('2026-02-16'), officeId: 'okubo' }]), ['2026-02-16', '2026-02-17']);
  t.same(deadline('2026-01-16', [{ date: d('2026-02-16') }]), ['2026-02-16', '2026-02-17']);
});

t.test('policy: no rolling, and a longer period', async (t) => {
  t.same(deadline('2026-01-30', [], domainPolicy({ deadlineRollsToNextOpenDay: false })), ['2026-02-28', '2026-02-28']);
  t.same(deadline('2026-01-30', [], domainPolicy({ inquiryAnswerMonths: 2 })), ['2026-03-30', '2026-03-30']);
  t.throws(() => nextAllCountersOpenDay(d('2026-02-28'), [], []), RangeError);
});

/** 民法 143 restated independently: the day after the end is the corresponding day, or the month has none. */
function endsAsCivilCodeSays(mailed: PlainDate, end: PlainDate): boolean {
  const firstCounted = mailed.add({ days: 1 });
  const next = Temporal.PlainYearMonth.from({ year: firstCounted.year, month: firstCounted.month }).add({ months: 1 });
  return dateExists(next.year, next.month, firstCounted.day)
    ? end.add({ days: 1 }).equals(next.toPlainDate({ day: firstCounted.day }))
    : end.equals(next.toPlainDate({ day: next.daysInMonth }));
}

t.test('every day of leap and common years: a one-month period ends as 民法 143 describes', async (t) => {
  let bad = 0;
  for (const mailed of eachDayOfYears(EXHAUSTIVE_YEARS)) {
    if (!endsAsCivilCodeSays(mailed, civilPeriodEnd(mailed, 1))) bad++;
  }
  t.equal(bad, 0);
});

t.test('property 1900–2100: a one-month period ends as 民法 143 describes', async () => {
  fc.assert(
    fc.property(dateBetween('1900-01-01', '2100-11-30'), (mailed) => endsAsCivilCodeSays(mailed, civilPeriodEnd(mailed, 1))),
    { numRuns: 5000 },
  );
});

/**
 * The rolled deadline is never before the period's end, falls on a weekday on which every office
 * opens, and no such day lies between the two (it is the first one).
 */
function rollsToFirstOpenDay(mailed: PlainDate, closures: CalendarClosure[]): boolean {
  const { periodEndsOn, dueOn } = inquiryAnswerDeadline(mailed, DEFAULT_OFFICES, closures, DEFAULT_DOMAIN_POLICY);
  const allOpen = (day: PlainDate) =>
    day.dayOfWeek <= 5 && DEFAULT_OFFICES.every((office) => daySchedule(office, day, closures).open);
  if (Temporal.PlainDate.compare(dueOn, periodEndsOn) < 0 || !allOpen(dueOn)) return false;
  for (let day = periodEndsOn; !day.equals(dueOn); day = day.add({ days: 1 })) {
    if (allOpen(day)) return false;
  }
  return true;
}

t.test('property: a rolled deadline is never earlier and falls on a day every office opens on weekday hours', async () => {
  const closure = fc.record({
    date: dateBetween('1970-01-01', '2050-12-31'),
    officeId: fc.constantFrom(undefined, ...DEFAULT_OFFICES.map((o) => o.id)),
  });
  fc.assert(
    fc.property(dateBetween('1970-01-01', '2050-10-31'), fc.array(closure, { maxLength: 5 }), (mailed, randomClosures) => {
      // Also close some days right after the period's end, where they matter.
      const periodEnd = civilPeriodEnd(mailed, 1);
      const closures = [
        ...randomClosures,
        ...randomClosures.map((c, i) => ({ ...c, date: periodEnd.add({ days: i }) })),
      ];
      return rollsToFirstOpenDay(mailed, closures);
    }),
    { numRuns: 500 },
  );
});

t.test('every mailing day of leap year 2024 and common years 2025–2026: the rolled deadline is the first all-open day on or after the period end', async (t) => {
  // A branch's maintenance day every 17 days and a whole-ward one every 41, over the years the deadlines reach.
  const closures: CalendarClosure[] = [];
  let i = 0;
  for (const day of eachDay(d('2024-01-01'), d('2027-02-28'))) {
    i++;
    if (i % 17 === 0) closures.push({ date: day, officeId: DEFAULT_OFFICES[i % DEFAULT_OFFICES.length]!.id });
    if (i % 41 === 0) closures.push({ date: day });
  }
  for (const [label, withClosures] of [['calendar only', []], ['with maintenance closures', closures]] as const) {
    const bad: string[] = [];
    let days = 0;
    for (const mailed of eachDayOfYears([2024, 2025, 2026])) {
      days++;
      if (!rollsToFirstOpenDay(mailed, [...withClosures])) bad.push(mailed.toString());
    }
    t.equal(days, 366 + 365 + 365, `${label}: every day swept`);
    t.same(bad, [], label);
  }
});
