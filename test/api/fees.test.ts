import t from 'tap';
import { testApp, type TestApp } from '../support/app.js';

const problemJson = /^application\/problem\+json/;

async function snapshot(h: TestApp) {
  const db = h.app.ctx.db;
  return {
    schedules: await db.selectFrom('fee_schedules').selectAll().orderBy('effective_from').execute(),
    audit: await db.selectFrom('audit_log').select(['id', 'action']).orderBy('id').execute(),
  };
}

const FEES_2027 = {
  cardIssuance: [{ item: 'card', amount: 0 }, { item: 'certificates', amount: 0 }],
  cardReissue: [{ item: 'card', amount: 1000 }, { item: 'certificates', amount: 200 }],
  certificateIssuance: [{ item: 'certificates', amount: 0 }],
  certificateRenewal: [{ item: 'certificates', amount: 0 }],
  certificateNewAfterExpiry: [{ item: 'certificates', amount: 0 }],
  certificateReissue: [{ item: 'certificates', amount: 300 }],
  pinReset: [],
  pinChange: [],
};

t.test('quotes follow DOMAIN.md\'s fee table', async (t) => {
  const h = await testApp(t);
  h.app.clock.set(new Date('2026-06-10T10:00:00+09:00'));
  const quote = (payload: object) => h.request({ method: 'POST', url: '/v1/fees/quote', payload });

  const reissue = await quote({ procedure: 'cardReissue', on: '2026-06-10' });
  t.equal(reissue.statusCode, 200);
  t.same(reissue.json(), {
    procedure: 'cardReissue', on: '2026-06-10', currency: 'JPY', total: 1000,
    lines: [{ item: 'card', amount: 800 }, { item: 'certificates', amount: 200 }],
    exemption: null, scheduleEffectiveFrom: '2016-01-01',
  });
  t.equal((await quote({ procedure: 'certificateReissue' })).json().total, 200, 'certificate reissue alone 200');
  t.equal((await quote({ procedure: 'cardIssuance' })).json().total, 0);
  for (const procedure of ['certificateRenewal', 'certificateNewAfterExpiry', 'pinReset', 'pinChange', 'certificateIssuance']) {
    t.equal((await quote({ procedure })).json().total, 0, `${procedure} is free`);
  }
  t.equal((await quote({ procedure: 'pinReset' })).json().lines.length, 0);

  const defaulted = (await quote({ procedure: 'cardReissue' })).json();
  t.equal(defaulted.on, '2026-06-10', '`on` defaults to today in Japan by the service clock');
  h.app.clock.set(new Date('2026-06-10T15:30:00Z')); // 00:30 on 11 June in Tokyo
  t.equal((await quote({ procedure: 'cardReissue' })).json().on, '2026-06-11', 'Tokyo date, not UTC');

  for (const exemption of ['disaster', 'theft', 'administrativeError', 'cardExpiringSoon', 'remarksFieldFull', 'numberChange']) {
    const free = (await quote({ procedure: 'cardReissue', exemption })).json();
    t.equal(free.total, 0, `${exemption} waives the reissue fee`);
    t.equal(free.exemption, exemption);
    t.same(free.lines, [{ item: 'card', amount: 0 }, { item: 'certificates', amount: 0 }]);
  }
  const notApplicable = (await quote({ procedure: 'certificateRenewal', exemption: 'theft' })).json();
  t.equal(notApplicable.exemption, null, 'an exemption that does not cover the procedure is not reported as applied');

  const readKey = (await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'reader', scopes: ['status:read'] } })).json().secret;
  t.equal((await h.request({ method: 'POST', url: '/v1/fees/quote', auth: readKey, payload: { procedure: 'cardReissue' } })).statusCode, 200, 'status:read quotes');
  t.equal((await h.request({ method: 'POST', url: '/v1/fees/quote', auth: null, payload: { procedure: 'cardReissue' } })).statusCode, 401);
});

t.test('quote refusals are 400/422 problem+json', async (t) => {
  const h = await testApp(t);
  const quote = (payload: object) => h.request({ method: 'POST', url: '/v1/fees/quote', payload });
  for (const [payload, what] of [
    [{ procedure: 'cardTheft' }, 'unknown procedure'],
    [{ procedure: 'cardReissue', on: '2026-02-30' }, 'no such date'],
    [{ procedure: 'cardReissue', on: '26-01-01' }, 'bad date'],
    [{ procedure: 'cardReissue', exemption: 'poverty' }, 'unknown exemption'],
    [{ procedure: 'cardReissue', extra: 1 }, 'unknown field'],
    [{}, 'missing procedure'],
  ] as const) {
    const res = await quote(payload);
    t.equal(res.statusCode, 400, what);
    t.match(res.headers['content-type'], problemJson, what);
  }
  const before = await quote({ procedure: 'cardReissue', on: '2015-12-31' });
  t.equal(before.statusCode, 422, 'no schedule before 2016-01-01');
  t.equal(before.json().type, 'urn:jpki-ward:problem:noFeeScheduleInEffect');
  t.match(before.json().detail, /2015-12-31/);
});

t.test('fee schedules: listed, added for a future date, which changes quotes from that date on', async (t) => {
  const h = await testApp(t);
  h.app.clock.set(new Date('2026-06-10T10:00:00+09:00'));
  const list = await h.request({ method: 'GET', url: '/v1/fees/schedules' });
  t.equal(list.statusCode, 200);
  t.equal(list.json().items.length, 1);
  t.equal(list.json().items[0].effectiveFrom, '2016-01-01');
  t.same(list.json().items[0].fees.cardReissue, [{ item: 'card', amount: 800 }, { item: 'certificates', amount: 200 }]);

  const headers = { 'idempotency-key': 'ordinance-2027' };
  const created = await h.request({ method: 'POST', url: '/v1/fees/schedules', headers, payload: { effectiveFrom: '2027-04-01', fees: FEES_2027 } });
  t.equal(created.statusCode, 201);
  t.equal(created.json().effectiveFrom, '2027-04-01');
  t.same(created.json().fees.certificateReissue, [{ item: 'certificates', amount: 300 }]);
  const replay = await h.request({ method: 'POST', url: '/v1/fees/schedules', headers, payload: { fees: FEES_2027, effectiveFrom: '2027-04-01' } });
  t.equal(replay.statusCode, 201, 'a retry replays the first answer');
  t.equal(replay.headers['idempotent-replayed'], 'true');
  const reused = await h.request({ method: 'POST', url: '/v1/fees/schedules', headers, payload: { effectiveFrom: '2027-05-01', fees: FEES_2027 } });
  t.equal(reused.statusCode, 422, 'the same key for another body');

  const audits = await h.app.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'feeSchedule.created').execute();
  t.equal(audits.length, 1, 'one audit row');
  t.equal(audits[0]?.resource, 'fees/schedules/2027-04-01');
  t.equal(audits[0]?.key_id, 'key_bootstrap_admin');

  const quote = async (on: string, procedure = 'cardReissue') =>
    (await h.request({ method: 'POST', url: '/v1/fees/quote', payload: { procedure, on } })).json();
  t.equal((await quote('2027-03-31')).total, 1000, 'the old schedule until the day before');
  t.equal((await quote('2027-03-31')).scheduleEffectiveFrom, '2016-01-01');
  const after = await quote('2027-04-01');
  t.equal(after.total, 1200, 'the new schedule from its first day');
  t.equal(after.scheduleEffectiveFrom, '2027-04-01');
  t.equal((await quote('2030-01-01', 'certificateReissue')).total, 300);
  t.equal((await quote('2026-06-10')).total, 1000, 'today is unchanged');

  const listed = (await h.request({ method: 'GET', url: '/v1/fees/schedules?limit=1' })).json();
  t.equal(listed.items[0].effectiveFrom, '2016-01-01');
  const next = (await h.request({ method: 'GET', url: `/v1/fees/schedules?limit=1&cursor=${listed.nextCursor}` })).json();
  t.same(next.items.map((s: { effectiveFrom: string }) => s.effectiveFrom), ['2027-04-01']);
  t.equal(next.nextCursor, null);

  const today = await h.request({ method: 'POST', url: '/v1/fees/schedules', payload: { effectiveFrom: '2026-06-10', fees: FEES_2027 } });
  t.equal(today.statusCode, 201, 'a schedule may start today');
});

t.test('fee schedule refusals change nothing', async (t) => {
  const h = await testApp(t);
  h.app.clock.set(new Date('2026-06-10T10:00:00+09:00'));
  const before = await snapshot(h);
  const post = (payload: object, auth?: string | null) => h.request({ method: 'POST', url: '/v1/fees/schedules', payload, ...(auth === undefined ? {} : { auth }) });

  const past = await post({ effectiveFrom: '2026-06-09', fees: FEES_2027 });
  t.equal(past.statusCode, 422);
  t.match(past.headers['content-type'], problemJson);
  t.equal(past.json().type, 'urn:jpki-ward:problem:effectiveFromInPast');
  const taken = await post({ effectiveFrom: '2016-01-01', fees: FEES_2027 });
  t.equal(taken.statusCode, 422, 'the first schedule is in the past anyway');

  const { pinChange: _omitted, ...incomplete } = FEES_2027;
  t.equal((await post({ effectiveFrom: '2027-04-01', fees: incomplete })).statusCode, 400, 'every procedure is required');
  t.equal((await post({ effectiveFrom: '2027-04-01', fees: { ...FEES_2027, cardTheft: [] } })).statusCode, 400, 'unknown procedure');
  t.equal((await post({ effectiveFrom: '2027-04-01', fees: { ...FEES_2027, pinReset: [{ item: 'card', amount: -1 }] } })).statusCode, 400, 'negative amount');
  t.equal((await post({ effectiveFrom: '2027-04-01', fees: { ...FEES_2027, pinReset: [{ item: 'card', amount: 1.5 }] } })).statusCode, 400, 'fractional yen');
  t.equal((await post({ effectiveFrom: '2027-04-31', fees: FEES_2027 })).statusCode, 400, 'no such date');

  const readKey = (await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'reader', scopes: ['status:read'] } })).json().secret;
  const afterKey = await snapshot(h);
  t.equal((await post({ effectiveFrom: '2027-04-01', fees: FEES_2027 }, readKey)).statusCode, 403, 'admin only');
  t.same(await snapshot(h), afterKey, 'nothing changed by the refusals');
  t.same(afterKey.schedules, before.schedules);

  t.equal((await post({ effectiveFrom: '2027-04-01', fees: FEES_2027 })).statusCode, 201);
  const again = await post({ effectiveFrom: '2027-04-01', fees: FEES_2027 });
  t.equal(again.statusCode, 409, 'a date is never replaced');
  t.equal(again.json().type, 'urn:jpki-ward:problem:feeScheduleExists');
  const audits = await h.app.ctx.db.selectFrom('audit_log').select('id').where('action', '=', 'feeSchedule.created').execute();
  t.equal(audits.length, 1);
});
