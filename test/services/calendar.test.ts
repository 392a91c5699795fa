import t from 'tap';
import { Temporal } from 'temporal-polyfill';
import { domainPolicy } from '../../src/domain/policy.js';
import { Problem } from '../../src/problems.js';
import { assertCounterOpen, inquiryDueOn } from '../../src/services/calendar.js';
import { quoteFee } from '../../src/services/fees.js';
import { domainPolicyFrom } from '../../src/services/policy.js';
import { testApp } from '../support/app.js';

t.test('domainPolicyFrom maps the settings', async (t) => {
  const h = await testApp(t, { ENFORCE_OPENING_HOURS: 'false', INQUIRY_ANSWER_MONTHS: '2', FEB29_BIRTHDAY_IN_COMMON_YEAR: '03-01', DEADLINE_ROLLS_TO_NEXT_OPEN_DAY: 'false', ALIAS_CHANGE_REVOKES_SIGNATURE: 'false' });
  t.same(domainPolicyFrom(h.config), {
    feb29BirthdayInCommonYear: '03-01', aliasChangeRevokesSignature: false, deadlineRollsToNextOpenDay: false,
    inquiryAnswerMonths: 2, enforceOpeningHours: false,
  });
});

t.test('assertCounterOpen', async (t) => {
  const h = await testApp(t);
  const ctx = h.app.ctx;
  const db = ctx.db;
  const policy = domainPolicyFrom(h.config);
  await t.resolves(assertCounterOpen(ctx, db, policy, 'main', new Date('2026-06-09T18:30:00+09:00')), 'Tuesday evening');
  await t.resolves(assertCounterOpen(ctx, db, policy, 'main', new Date('2026-05-24T10:00:00+09:00')), '4th Sunday at the main office');

  const closed = await assertCounterOpen(ctx, db, policy, 'yotsuya', new Date('2026-05-24T10:00:00+09:00')).catch((e: unknown) => e);
  t.ok(closed instanceof Problem);
  t.match(closed, { status: 422, code: 'officeClosed', extra: { officeId: 'yotsuya', nextOpensAt: '2026-05-25T08:30:00+09:00' } });
  const atFive = await assertCounterOpen(ctx, db, policy, 'main', new Date('2026-06-10T17:00:00+09:00')).catch((e: unknown) => e);
  t.match(atFive, { status: 422, code: 'officeClosed' }, 'closed at 17:00 sharp');

  const unknown = await assertCounterOpen(ctx, db, policy, 'nowhere', new Date('2026-06-10T10:00:00+09:00')).catch((e: unknown) => e);
  t.match(unknown, { status: 404, code: 'officeNotFound' });
  const off = domainPolicy({ enforceOpeningHours: false });
  await t.resolves(assertCounterOpen(ctx, db, off, 'yotsuya', new Date('2026-05-24T10:00:00+09:00')), 'policy off: closed hours accepted');
  t.match(await assertCounterOpen(ctx, db, off, 'nowhere', new Date()).catch((e: unknown) => e), { status: 404 }, 'but never an unknown office');

  h.app.clock.set(new Date('2026-06-01T09:00:00+09:00'));
  t.equal((await h.request({ method: 'PUT', url: '/v1/calendar/closures/2026-06-10', payload: { officeId: 'main' } })).statusCode, 201);
  await db.transaction().execute(async (trx) => {
    t.match(await assertCounterOpen(ctx, trx, policy, 'main', new Date('2026-06-10T10:00:00+09:00')).catch((e: unknown) => e),
      { status: 422, extra: { nextOpensAt: '2026-06-11T08:30:00+09:00' } }, 'a maintenance closure, inside a transaction');
  });
});

t.test('inquiryDueOn: Civil Code period, rolled past closed days', async (t) => {
  const h = await testApp(t);
  const db = h.app.ctx.db;
  const policy = domainPolicyFrom(h.config);
  const due = async (mailed: string, p = policy) => {
    const d = await inquiryDueOn(db, p, mailed);
    return `${d.periodEndsOn.toString()}→${d.dueOn.toString()}`;
  };
  t.equal(await due('2026-01-15'), '2026-02-15→2026-02-16', 'ends on a Sunday, due on Monday');
  t.equal(await due('2026-01-30'), '2026-02-28→2026-03-02', 'end of February (a Saturday)');
  t.equal(await due('2026-01-31'), '2026-02-28→2026-03-02');
  t.equal(await due('2026-03-24'), '2026-04-24→2026-04-24', 'a Friday stays');
  t.equal(await due('2026-04-01'), '2026-05-01→2026-05-01');
  t.equal(await due('2026-04-02'), '2026-05-02→2026-05-07', 'Golden Week');
  t.equal(await due('2026-11-27'), '2026-12-27→2026-12-28', "the main office's 4th Sunday does not count");
  t.equal(await due('2026-11-29'), '2026-12-29→2027-01-04', 'year end');
  t.equal(await due('2026-01-15', domainPolicy({ deadlineRollsToNextOpenDay: false })), '2026-02-15→2026-02-15', 'policy off: not rolled');
  t.equal(await due('2026-01-15', domainPolicy({ inquiryAnswerMonths: 2 })), '2026-03-15→2026-03-16');

  h.app.clock.set(new Date('2026-01-01T09:00:00+09:00'));
  t.equal((await h.request({ method: 'PUT', url: '/v1/calendar/closures/2026-02-16', payload: { officeId: 'okubo' } })).statusCode, 201);
  t.equal(await due('2026-01-15'), '2026-02-15→2026-02-17', 'a closure at any one office moves it');
  const inTrx = await db.transaction().execute((trx) => inquiryDueOn(trx, policy, Temporal.PlainDate.from('2026-01-15')));
  t.equal(inTrx.dueOn.toString(), '2026-02-17', 'a PlainDate, inside a transaction');
});

t.test('quoteFee inside a transaction', async (t) => {
  const h = await testApp(t);
  const quote = await h.app.ctx.db.transaction().execute((trx) => quoteFee(h.app.ctx, trx, 'cardReissue', '2026-06-10', 'theft'));
  t.same(quote, {
    procedure: 'cardReissue', on: '2026-06-10', currency: 'JPY', total: 0,
    lines: [{ item: 'card', amount: 0 }, { item: 'certificates', amount: 0 }], exemption: 'theft', scheduleEffectiveFrom: '2016-01-01',
  });
  t.equal((await quoteFee(h.app.ctx, h.app.ctx.db, 'certificateReissue', Temporal.PlainDate.from('2026-06-10'))).total, 200);
});
