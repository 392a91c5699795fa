import holidayJp from '@holiday-jp/holiday_jp';
import fc from 'fast-check';
import t from 'tap';
import { Temporal } from 'temporal-polyfill';
import {
  counterAcceptsAt,
  daySchedule,
  isOpenAt,
  officeSchedule,
  type CalendarClosure,
  type DaySchedule,
} from '../../src/domain/calendar.js';
import { formatTokyoInstant, tokyoInstant } from '../../src/domain/dates.js';
import { DomainError } from '../../src/domain/errors.js';
import { HOLIDAY_DATA_YEARS, isNationalHoliday } from '../../src/domain/holidays.js';
import { DEFAULT_OFFICES, type Office } from '../../src/domain/offices.js';
import { DEFAULT_DOMAIN_POLICY, domainPolicy } from '../../src/domain/policy.js';
import { d, dateBetween } from './support.js';

const main = DEFAULT_OFFICES.find((o) => o.id === 'main')!;
const yotsuya = DEFAULT_OFFICES.find((o) => o.id === 'yotsuya')!;
const at = (text: string) => Temporal.Instant.from(text);

/** Made by hand from the 2026 calendar (内閣府 list), not from the dataset. */
const HOLIDAYS_2026 = [
  '2026-01-01', '2026-01-12', '2026-02-11', '2026-02-23', '2026-03-20', '2026-04-29',
  '2026-05-03', '2026-05-04', '2026-05-05', '2026-05-06', '2026-07-20', '2026-08-11',
  '2026-09-21', '2026-09-22', '2026-09-23', '2026-10-12', '2026-11-03', '2026-11-23',
];
const FOURTH_SUNDAYS_2026 = [
  '2026-01-25', '2026-02-22', '2026-03-22', '2026-04-26', '2026-05-24', '2026-06-28',
  '2026-07-26', '2026-08-23', '2026-09-27', '2026-10-25', '2026-11-22', '2026-12-27',
];
const YEAR_END_2026 = ['2026-01-01', '2026-01-02', '2026-01-03', '2026-12-29', '2026-12-30', '2026-12-31'];
const TUESDAYS_2026 = Array.from({ length: 52 }, (_, i) => d('2026-01-06').add({ weeks: i }).toString());

function show(day: DaySchedule): string {
  if (!day.open) return `closed:${day.reason}`;
  return day.intervals.map((i) => `${formatTokyoInstant(i.opensAt)}/${formatTokyoInstant(i.closesAt)}`).join(' ');
}

function expected2026(office: Office, date: string): string {
  const dow = d(date).dayOfWeek;
  if (YEAR_END_2026.includes(date)) return 'closed:yearEnd';
  if (HOLIDAYS_2026.includes(date)) return 'closed:holiday';
  if (FOURTH_SUNDAYS_2026.includes(date) && office.id === 'main') {
    return `${date}T09:00:00+09:00/${date}T17:00:00+09:00`;
  }
  if (dow >= 6) return 'closed:weekend';
  const closes = TUESDAYS_2026.includes(date) ? '19:00' : '17:00';
  return `${date}T08:30:00+09:00/${date}T${closes}:00+09:00`;
}

t.test('default offices: the main office and its ten branch offices', async (t) => {
  t.same(DEFAULT_OFFICES.map((o) => o.id), [
    'main', 'yotsuya', 'tansumachi', 'enokicho', 'wakamatsucho', 'okubo',
    'totsuka', 'ochiai-daiichi', 'ochiai-daini', 'kashiwagi', 'tsunohazu',
  ]);
  t.equal(DEFAULT_OFFICES.filter((o) => o.fourthSundayHours).length, 1, 'only the main office opens on Sundays');
});

t.test('2026 schedule of the main office and Yotsuya matches the hand-made calendar', async (t) => {
  t.equal(TUESDAYS_2026.at(-1), '2026-12-29');
  for (const office of [main, yotsuya]) {
    const year = [
      ...officeSchedule(office, d('2026-01-01'), d('2026-12-31'), []),
    ];
    t.equal(year.length, 365);
    const wrong = year.filter((day) => show(day) !== expected2026(office, day.date.toString()));
    t.same(wrong.map((day) => `${day.date.toString()} ${show(day)}`), [], office.id);
    const open = year.filter((day) => day.open).length;
    // 261 weekdays − 17 weekday holidays − 4 other weekday year-end days (1/2, 12/29–31), + 12 Sundays at main.
    t.equal(open, office.id === 'main' ? 252 : 240, `${office.id} open days`);
  }
});

t.test('maintenance closures: the 4th Sunday opening, or any day, per office or for all', async (t) => {
  const sunday: CalendarClosure[] = [{ date: d('2026-01-25') }];
  t.equal(show(daySchedule(main, d('2026-01-25'), sunday)), 'closed:maintenance');
  t.equal(show(daySchedule(yotsuya, d('2026-01-25'), sunday)), 'closed:weekend', 'branch closed anyway');
  const oneBranch: CalendarClosure[] = [{ date: d('2026-01-26'), officeId: 'yotsuya' }];
  t.equal(show(daySchedule(yotsuya, d('2026-01-26'), oneBranch)), 'closed:maintenance');
  t.equal(daySchedule(main, d('2026-01-26'), oneBranch).open, true);
  t.equal(show(daySchedule(main, d('2026-02-11'), [{ date: d('2026-02-11') }])), 'closed:holiday');
});

t.test('isOpenAt: half-open intervals and the next opening', async (t) => {
  const state = (office: Office, text: string, closures: CalendarClosure[] = []) => {
    const s = isOpenAt(office, at(text), closures);
    return {
      open: s.open,
      closesAt: s.closesAt && formatTokyoInstant(s.closesAt),
      nextOpensAt: s.nextOpensAt && formatTokyoInstant(s.nextOpensAt),
    };
  };
  t.same(state(main, '2026-01-20T08:29:59+09:00'), { open: false, closesAt: undefined, nextOpensAt: '2026-01-20T08:30:00+09:00' });
  t.same(state(main, '2026-01-20T08:30:00+09:00'), {
    open: true,
    closesAt: '2026-01-20T19:00:00+09:00',
    nextOpensAt: '2026-01-21T08:30:00+09:00',
  });
  t.same(state(main, '2026-01-20T18:59:59+09:00').open, true, 'Tuesday evening');
  t.same(state(main, '2026-01-19T17:00:00+09:00'), { open: false, closesAt: undefined, nextOpensAt: '2026-01-20T08:30:00+09:00' }, '17:00 sharp is closed');
  t.same(state(main, '2026-01-23T17:00:00+09:00').nextOpensAt, '2026-01-25T09:00:00+09:00', 'main: 4th Sunday next');
  t.same(state(yotsuya, '2026-01-23T17:00:00+09:00').nextOpensAt, '2026-01-26T08:30:00+09:00', 'branch: Monday next');
  t.same(state(main, '2026-01-23T17:00:00+09:00', [{ date: d('2026-01-25') }]).nextOpensAt, '2026-01-26T08:30:00+09:00');
  t.same(state(main, '2026-12-28T17:00:00+09:00').nextOpensAt, '2027-01-04T08:30:00+09:00', 'over the year end');
  t.same(state(main, '2026-01-25T09:30:00Z').open, false, '18:30 Japan time on a Sunday');
});

t.test('counterAcceptsAt follows the enforceOpeningHours policy', async (t) => {
  const night = at('2026-01-19T22:00:00+09:00');
  t.notOk(counterAcceptsAt(main, night, [], DEFAULT_DOMAIN_POLICY));
  t.ok(counterAcceptsAt(main, night, [], domainPolicy({ enforceOpeningHours: false })));
  t.ok(counterAcceptsAt(main, at('2026-01-19T10:00:00+09:00'), [], DEFAULT_DOMAIN_POLICY));
});

t.test('holidays come from the dataset; outside its years is a clear error', async (t) => {
  t.same(HOLIDAY_DATA_YEARS, { first: 1970, last: 2050 });
  t.ok(isNationalHoliday(d('2026-09-22')), "citizens' holiday");
  t.notOk(isNationalHoliday(d('2026-09-24')));
  t.throws(() => isNationalHoliday(d('2051-01-01')), DomainError);
  t.throws(() => daySchedule(main, d('1969-12-31'), []), { code: 'holidayDataOutOfRange' });
});

t.test('officeSchedule checks its range', async (t) => {
  t.throws(() => officeSchedule(main, d('2026-02-01'), d('2026-01-31'), []), { code: 'invalidRange' });
  t.throws(() => officeSchedule(main, d('2026-01-01'), d('2027-01-02'), []), { code: 'invalidRange' });
  t.equal(officeSchedule(main, d('2024-01-01'), d('2024-12-31'), []).length, 366, 'a leap year fits');
});

t.test('property: across the dataset years, a day is open exactly when the rules say', async () => {
  fc.assert(
    fc.property(dateBetween('1970-01-01', '2050-12-31'), fc.constantFrom(main, yotsuya), (date, office) => {
      const yearEnd = (date.month === 12 && date.day >= 29) || (date.month === 1 && date.day <= 3);
      const sundayOpening = office === main && date.dayOfWeek === 7 && Math.ceil(date.day / 7) === 4;
      const shouldOpen = !yearEnd && !holidayJp.isHoliday(date.toString()) && (date.dayOfWeek <= 5 || sundayOpening);
      const day = daySchedule(office, date, []);
      if (day.open !== shouldOpen) return false;
      if (!day.open) return true;
      const [interval] = day.intervals;
      const hours = date.dayOfWeek === 7 ? ['09:00', '17:00'] : ['08:30', date.dayOfWeek === 2 ? '19:00' : '17:00'];
      return (
        interval!.opensAt.equals(tokyoInstant(date, hours[0]!)) && interval!.closesAt.equals(tokyoInstant(date, hours[1]!))
      );
    }),
    { numRuns: 3000 },
  );
});
