import t from 'tap';
import { Temporal } from 'temporal-polyfill';
import {
  dateExists,
  earlierDate,
  formatTokyoInstant,
  isLeapYear,
  parseDate,
  startOfTokyoDay,
  tokyoDateOf,
  tokyoInstant,
} from '../../src/domain/dates.js';
import { DomainError } from '../../src/domain/errors.js';
import { d } from './support.js';

t.test('parseDate accepts only real YYYY-MM-DD dates', async (t) => {
  t.equal(parseDate('2024-02-29').toString(), '2024-02-29');
  for (const bad of ['2023-02-29', '2026-13-01', '2026-1-5', '20260105', '2026-01-05T00:00', ' 2026-01-05', '']) {
    t.throws(() => parseDate(bad), DomainError, bad);
  }
});

t.test('Japan dates and instants use +09:00', async (t) => {
  t.equal(tokyoDateOf(Temporal.Instant.from('2026-01-15T14:59:59Z')).toString(), '2026-01-15');
  t.equal(tokyoDateOf(Temporal.Instant.from('2026-01-15T15:00:00Z')).toString(), '2026-01-16');
  t.equal(tokyoInstant(d('2026-01-15'), '08:30').toString(), '2026-01-14T23:30:00Z');
  t.equal(startOfTokyoDay(d('2026-01-15')).toString(), '2026-01-14T15:00:00Z');
  t.equal(formatTokyoInstant(Temporal.Instant.from('2026-01-14T23:30:00Z')), '2026-01-15T08:30:00+09:00');
});

t.test('calendar helpers', async (t) => {
  t.ok(isLeapYear(2000));
  t.notOk(isLeapYear(1900));
  t.ok(isLeapYear(2024));
  t.notOk(isLeapYear(2026));
  t.ok(dateExists(2024, 2, 29));
  t.notOk(dateExists(2026, 2, 29));
  t.notOk(dateExists(2026, 4, 31));
  t.equal(earlierDate(d('2026-01-02'), d('2026-01-01')).toString(), '2026-01-01');
});
