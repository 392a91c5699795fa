import fc from 'fast-check';
import t from 'tap';
import { Temporal } from 'temporal-polyfill';
import { nthBirthdayAfter } from '../../src/domain/birthdays.js';
import { dateExists, type PlainDate } from '../../src/domain/dates.js';
import { domainPolicy, type Feb29BirthdayInCommonYear } from '../../src/domain/policy.js';
import { certificateProcedure } from '../../src/domain/procedure.js';
import { expiriesWithWindowOpeningBetween, isInRenewalWindow, renewalWindow } from '../../src/domain/renewal-window.js';
import { userAuthenticationExpiry } from '../../src/domain/validity.js';
import { d, dateBetween, daysBetween, eachDay, eachDayOfYears, EXHAUSTIVE_YEARS } from './support.js';

t.test('DOMAIN.md: expiry 2023-07-07 → opens 2023-04-08; expiry 2023-05-31 → opens 2023-03-01', async (t) => {
  t.same(
    [renewalWindow(d('2023-07-07')).opensOn.toString(), renewalWindow(d('2023-07-07')).closesOn.toString()],
    ['2023-04-08', '2023-07-07'],
  );
  t.equal(renewalWindow(d('2023-05-31')).opensOn.toString(), '2023-03-01');
  t.equal(renewalWindow(d('2024-05-30')).opensOn.toString(), '2024-03-01', '2024-02-30 does not exist');
  t.equal(renewalWindow(d('2024-05-29')).opensOn.toString(), '2024-03-01', 'the day after 2024-02-29');
  t.equal(renewalWindow(d('2023-05-29')).opensOn.toString(), '2023-03-01', '2023-02-29 does not exist');
});

t.test('window bounds: the expiry day is inside, the day before the opening and after expiry are not', async (t) => {
  const expiry = d('2023-07-07');
  t.notOk(isInRenewalWindow(expiry, d('2023-04-07')));
  t.ok(isInRenewalWindow(expiry, d('2023-04-08')));
  t.ok(isInRenewalWindow(expiry, d('2023-07-07')));
  t.notOk(isInRenewalWindow(expiry, d('2023-07-08')));
});

t.test('certificateProcedure derives initial, renewal, newAfterExpiry, reissue', async (t) => {
  const expiresOn = d('2023-07-07');
  t.same(certificateProcedure(null, d('2023-01-01')), { allowed: true, procedure: 'initial' });
  t.same(certificateProcedure({ expiresOn, status: 'good' }, d('2023-04-08')), { allowed: true, procedure: 'renewal' });
  t.same(certificateProcedure({ expiresOn, status: 'good' }, d('2023-07-07')), { allowed: true, procedure: 'renewal' });
  t.same(certificateProcedure({ expiresOn, status: 'good' }, d('2023-07-08')), {
    allowed: true,
    procedure: 'newAfterExpiry',
  });
  t.same(certificateProcedure({ expiresOn, status: 'expired' }, d('2023-07-08')), {
    allowed: true,
    procedure: 'newAfterExpiry',
  });
  const early = certificateProcedure({ expiresOn, status: 'good' }, d('2023-04-07'));
  t.equal(early.allowed, false);
  t.equal(!early.allowed && early.reason, 'renewalWindowNotOpen');
  t.equal(!early.allowed && early.renewalOpensOn.toString(), '2023-04-08');
  t.same(certificateProcedure({ expiresOn, status: 'hold' }, d('2023-01-01')), { allowed: true, procedure: 'reissue' });
  t.same(
    certificateProcedure({ expiresOn, status: 'revoked', revocationReason: 'keyCompromise' }, d('2023-01-01')),
    { allowed: true, procedure: 'reissue' },
  );
  t.same(
    certificateProcedure({ expiresOn, status: 'revoked', revocationReason: 'affiliationChanged' }, d('2023-01-01')),
    { allowed: true, procedure: 'initial' },
  );
});

/** The rule restated: the day after the same day three months earlier, or the 1st of the month after. */
function expectedOpening(expiry: PlainDate): PlainDate {
  const earlier = Temporal.PlainYearMonth.from({ year: expiry.year, month: expiry.month }).subtract({ months: 3 });
  return dateExists(earlier.year, earlier.month, expiry.day)
    ? earlier.toPlainDate({ day: expiry.day }).add({ days: 1 })
    : earlier.add({ months: 1 }).toPlainDate({ day: 1 });
}

function opensWell(expiry: PlainDate): number | null {
  const { opensOn } = renewalWindow(expiry);
  const before = daysBetween(opensOn, expiry);
  const exists = dateExists(opensOn.year, opensOn.month, opensOn.day);
  return before >= 88 && before <= 92 && exists && opensOn.equals(expectedOpening(expiry)) ? before : null;
}

t.test('every day of leap and common years: the window opens 88–92 days before expiry, on a date that exists', async (t) => {
  const seen = new Set<number | null>();
  for (const expiry of eachDayOfYears(EXHAUSTIVE_YEARS)) seen.add(opensWell(expiry));
  // 92 is the documented bound; the calendar never actually reaches it.
  t.same([...seen].sort(), [88, 89, 90, 91]);
});

t.test('property 1900–2100: the window opens 88–92 days before expiry, on a date that exists', async () => {
  fc.assert(fc.property(dateBetween('1900-01-01', '2100-12-31'), (expiry) => opensWell(expiry) !== null), {
    numRuns: 5000,
  });
});

const feb29Policies: Feb29BirthdayInCommonYear[] = ['02-28', '03-01'];

t.test('property: renewing inside the window never expires earlier than renewing the day after expiry', async () => {
  fc.assert(
    fc.property(
      dateBetween('1900-01-01', '2080-12-31'),
      fc.integer({ min: 1, max: 15 }),
      fc.nat(200),
      fc.constantFrom(...feb29Policies),
      fc.nat(),
      (born, yearsToIssue, issueOffset, feb29, pick) => {
        const policy = domainPolicy({ feb29BirthdayInCommonYear: feb29 });
        const issuedOn = born.add({ years: yearsToIssue, days: issueOffset });
        const expiresOn = nthBirthdayAfter(born, issuedOn, 5, feb29);
        const { opensOn } = renewalWindow(expiresOn);
        const renewOn = opensOn.add({ days: pick % (daysBetween(opensOn, expiresOn) + 1) });
        const dayAfter = expiresOn.add({ days: 1 });
        const cardExpiresOn = d('2200-01-01');
        const expiryIfRenewed = (on: typeof renewOn) => {
          const decision = certificateProcedure({ expiresOn, status: 'good' }, on);
          if (!decision.allowed) throw new Error('window refused a day inside it');
          return userAuthenticationExpiry(
            { birthDate: born, issuedOn: on, procedure: decision.procedure, cardExpiresOn },
            policy,
          );
        };
        const insideWindow = expiryIfRenewed(renewOn);
        const afterExpiry = expiryIfRenewed(dayAfter);
        return Temporal.PlainDate.compare(insideWindow, afterExpiry) >= 0;
      },
    ),
    { numRuns: 5000 },
  );
});

t.test('every birth date of a leap and a common year, renewed at the edges and middle of its window', async (t) => {
  let bad = 0;
  for (const born of eachDayOfYears([1999, 2000])) {
    for (const feb29 of feb29Policies) {
      const policy = domainPolicy({ feb29BirthdayInCommonYear: feb29 });
      const expiresOn = nthBirthdayAfter(born, d('2021-06-30'), 5, feb29);
      const base = { birthDate: born, cardExpiresOn: d('2200-01-01') };
      const afterExpiry = userAuthenticationExpiry(
        { ...base, issuedOn: expiresOn.add({ days: 1 }), procedure: 'newAfterExpiry' },
        policy,
      );
      const { opensOn } = renewalWindow(expiresOn);
      const days = [opensOn, opensOn.add({ days: 45 }), expiresOn.subtract({ days: 1 }), expiresOn];
      for (const on of days) {
        const renewed = userAuthenticationExpiry({ ...base, issuedOn: on, procedure: 'renewal' }, policy);
        if (Temporal.PlainDate.compare(renewed, afterExpiry) < 0) bad++;
      }
    }
  }
  t.equal(bad, 0);
});

// Dates 1900–2100 with month ends and 29 February drawn as often as any other day.
const monthEnd = fc.record({ year: fc.integer({ min: 1900, max: 2100 }), month: fc.integer({ min: 1, max: 12 }) })
  .map(({ year, month }) => Temporal.PlainYearMonth.from({ year, month }).toPlainDate({ day: Temporal.PlainYearMonth.from({ year, month }).daysInMonth }));
const february29 = fc.integer({ min: 1900, max: 2100 }).filter((y) => dateExists(y, 2, 29)).map((year) => Temporal.PlainDate.from({ year, month: 2, day: 29 }));
const anyDay = fc.oneof(dateBetween('1900-01-01', '2100-12-31'), monthEnd, february29);

const between = (day: PlainDate, from: PlainDate, to: PlainDate) => Temporal.PlainDate.compare(from, day) <= 0 && Temporal.PlainDate.compare(day, to) <= 0;

/**
 * Every expiry from 10 days before to 10 days after [from, to] + 3 months is in the range exactly
 * when its window opens in [from, to] (windows open 88–92 days before expiry: none outside it does),
 * and the range lies within those days.
 */
function rangeIsExact(from: PlainDate, to: PlainDate): boolean {
  const range = expiriesWithWindowOpeningBetween(from, to);
  const first = from.add({ months: 3 }).subtract({ days: 10 });
  const last = to.add({ months: 3 }).add({ days: 10 });
  if (range && !(between(range.earliest, first, last) && between(range.latest, first, last))) return false;
  for (const expiry of eachDay(first, last)) {
    const opensInside = between(renewalWindow(expiry).opensOn, from, to);
    const listed = range !== undefined && between(expiry, range.earliest, range.latest);
    if (opensInside !== listed) return false;
  }
  return true;
}

t.test('the expiry range for the renewal batch: the examples, and a day no window opens on', async (t) => {
  const range = (from: string, to: string) => {
    const r = expiriesWithWindowOpeningBetween(d(from), d(to));
    return r && [r.earliest.toString(), r.latest.toString()];
  };
  t.same(range('2023-04-08', '2023-04-08'), ['2023-07-07', '2023-07-07'], 'DOMAIN.md: expiry 2023-07-07 opens 2023-04-08');
  t.same(range('2023-03-01', '2023-03-01'), ['2023-05-28', '2023-05-31'], 'four expiries open on 1 March of a common year');
  t.same(range('2024-03-01', '2024-03-01'), ['2024-05-29', '2024-05-31'], 'three in a leap year (05-28 opens on 02-29)');
  t.same(range('2024-02-29', '2024-02-29'), ['2024-05-28', '2024-05-28']);
  t.equal(range('2023-02-01', '2023-02-01'), undefined, 'no 31 April: no window opens on 1 February');
  t.same(range('2023-02-01', '2023-02-02'), ['2023-05-01', '2023-05-01']);
  t.equal(range('2023-05-02', '2023-05-01'), undefined, 'from after to');
});

t.test('every range start of leap year 2024 and common year 2023, one day and a month long: exactly the expiries whose window opens in it', async (t) => {
  const bad: string[] = [];
  for (const from of eachDayOfYears([2023, 2024])) {
    for (const to of [from, from.add({ months: 1 })]) if (!rangeIsExact(from, to)) bad.push(`${from.toString()}..${to.toString()}`);
  }
  t.same(bad, []);
});

t.test('property 1900–2100 (month ends, 29 February): the expiry range never misses a certificate whose window opens in [from, to], and holds no other', async () => {
  fc.assert(
    fc.property(anyDay, fc.integer({ min: 0, max: 120 }), (from, length) => rangeIsExact(from, from.add({ days: length }))),
    { numRuns: 1000 },
  );
});
