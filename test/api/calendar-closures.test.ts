import t from 'tap';
import { testApp, type TestApp } from '../support/app.js';

const problemJson = /^application\/problem\+json/;

async function snapshot(h: TestApp) {
  const db = h.app.ctx.db;
  return {
    closures: await db.selectFrom('calendar_closures').selectAll().orderBy('id').execute(),
    audit: await db.selectFrom('audit_log').select(['id', 'action']).orderBy('id').execute(),
  };
}

async function day(h: TestApp, officeId: string, date: string) {
  return (await h.request({ method: 'GET', url: `/v1/offices/${officeId}/schedule?from=${date}&to=${date}` })).json().days[0];
}

t.test('a maintenance closure closes the day, is listed, audited and removed again', async (t) => {
  const h = await testApp(t);
  h.app.clock.set(new Date('2026-05-01T10:00:00+09:00'));
  t.equal((await day(h, 'main', '2026-05-24')).open, true, 'the 4th Sunday is open before');

  const put = await h.request({ method: 'PUT', url: '/v1/calendar/closures/2026-05-24', payload: { officeId: 'main', note: 'JPKI servers down' } });
  t.equal(put.statusCode, 201);
  t.match(put.json(), { date: '2026-05-24', officeId: 'main', reason: 'maintenance', note: 'JPKI servers down' });
  t.same(await day(h, 'main', '2026-05-24'), { date: '2026-05-24', open: false, intervals: [], reason: 'maintenance' });
  const open = (await h.request({ method: 'GET', url: '/v1/offices/main/open?at=2026-05-23T12:00:00%2B09:00' })).json();
  t.equal(open.nextOpensAt, '2026-05-25T08:30:00+09:00', 'the next opening skips the closed Sunday');

  const again = await h.request({ method: 'PUT', url: '/v1/calendar/closures/2026-05-24', payload: { officeId: 'main', note: 'extended maintenance' } });
  t.equal(again.statusCode, 200, 'PUT again replaces the note');
  t.equal(again.json().note, 'extended maintenance');

  const all = await h.request({ method: 'PUT', url: '/v1/calendar/closures/2026-06-10', payload: {} });
  t.equal(all.statusCode, 201);
  t.equal(all.json().officeId, null, 'no office: every office');
  t.equal((await day(h, 'main', '2026-06-10')).reason, 'maintenance');
  t.equal((await day(h, 'tsunohazu', '2026-06-10')).reason, 'maintenance');
  t.equal((await day(h, 'tsunohazu', '2026-05-24')).reason, 'weekend', 'a closure only reports on a day the office would open');
  t.equal((await h.request({ method: 'PUT', url: '/v1/calendar/closures/2026-06-10', payload: { officeId: 'yotsuya' } })).statusCode, 201, 'an office closure on a ward-wide day is its own row');

  const list = await h.request({ method: 'GET', url: '/v1/calendar/closures?from=2026-05-01&to=2026-06-30' });
  t.equal(list.statusCode, 200);
  t.same(list.json().items.map((c: { date: string; officeId: string | null }) => `${c.date}/${c.officeId}`),
    ['2026-05-24/main', '2026-06-10/null', '2026-06-10/yotsuya']);
  t.same((await h.request({ method: 'GET', url: '/v1/calendar/closures?from=2026-06-01&to=2026-06-09' })).json().items, [], 'range applies, both ends included');
  const p1 = (await h.request({ method: 'GET', url: '/v1/calendar/closures?limit=2' })).json();
  const p2 = (await h.request({ method: 'GET', url: `/v1/calendar/closures?limit=2&cursor=${p1.nextCursor}` })).json();
  t.same([...p1.items, ...p2.items].map((c: { date: string; officeId: string | null }) => `${c.date}/${c.officeId}`),
    ['2026-05-24/main', '2026-06-10/null', '2026-06-10/yotsuya'], 'pages cover the list once');
  t.equal(p2.nextCursor, null);

  t.equal((await h.request({ method: 'DELETE', url: '/v1/calendar/closures/2026-05-24?officeId=main' })).statusCode, 204);
  t.equal((await day(h, 'main', '2026-05-24')).open, true, 'open again');
  t.equal((await h.request({ method: 'DELETE', url: '/v1/calendar/closures/2026-06-10' })).statusCode, 204, 'the ward-wide one');
  t.equal((await day(h, 'main', '2026-06-10')).open, true);
  t.equal((await day(h, 'yotsuya', '2026-06-10')).reason, 'maintenance', 'the office closure stays');

  const audits = await h.app.ctx.db.selectFrom('audit_log').select(['action', 'resource', 'key_id']).where('resource', 'like', 'calendar/%').orderBy('id').execute();
  t.same(audits.map((a) => `${a.action} ${a.resource}`), [
    'calendarClosure.created calendar/closures/2026-05-24',
    'calendarClosure.updated calendar/closures/2026-05-24',
    'calendarClosure.created calendar/closures/2026-06-10',
    'calendarClosure.created calendar/closures/2026-06-10',
    'calendarClosure.deleted calendar/closures/2026-05-24',
    'calendarClosure.deleted calendar/closures/2026-06-10',
  ]);
  t.ok(audits.every((a) => a.key_id === 'key_bootstrap_admin'));
});

t.test('closure refusals change nothing', async (t) => {
  const h = await testApp(t);
  h.app.clock.set(new Date('2026-05-01T10:00:00+09:00'));
  t.equal((await h.request({ method: 'PUT', url: '/v1/calendar/closures/2026-05-24', payload: { officeId: 'main' } })).statusCode, 201);
  const readKey = (await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'reader', scopes: ['status:read'] } })).json().secret;
  const before = await snapshot(h);

  const cases: [string, string, object | undefined, number, string, string | undefined][] = [
    ['PUT', '/v1/calendar/closures/2026-04-30', { officeId: 'main' }, 422, 'a past day', 'closureInPast'],
    ['PUT', '/v1/calendar/closures/2026-06-31', {}, 400, 'no such date', undefined],
    ['PUT', '/v1/calendar/closures/tomorrow', {}, 400, 'bad date', undefined],
    ['PUT', '/v1/calendar/closures/2026-06-01', { officeId: 'nowhere' }, 422, 'unknown office', 'unknownOffice'],
    ['PUT', '/v1/calendar/closures/2026-06-01', { reason: 'holiday' }, 400, 'unknown field', undefined],
    ['DELETE', '/v1/calendar/closures/2026-05-24', undefined, 404, 'no ward-wide closure that day', 'closureNotFound'],
    ['DELETE', '/v1/calendar/closures/2026-05-24?officeId=yotsuya', undefined, 404, 'not at that office', 'closureNotFound'],
    ['DELETE', '/v1/calendar/closures/2026-04-01?officeId=main', undefined, 422, 'a past day', 'closureInPast'],
  ];
  for (const [method, url, payload, status, what, code] of cases) {
    const res = await h.request({ method: method as 'PUT', url, ...(payload ? { payload } : {}) });
    t.equal(res.statusCode, status, what);
    t.match(res.headers['content-type'], problemJson, what);
    if (code) t.equal(res.json().type, `urn:jpki-ward:problem:${code}`, what);
  }
  t.equal((await h.request({ method: 'PUT', url: '/v1/calendar/closures/2026-06-01', auth: readKey, payload: {} })).statusCode, 403, 'admin only');
  t.equal((await h.request({ method: 'DELETE', url: '/v1/calendar/closures/2026-05-24?officeId=main', auth: readKey })).statusCode, 403);
  t.equal((await h.request({ method: 'GET', url: '/v1/calendar/closures', auth: readKey })).statusCode, 200, 'status:read lists');
  t.equal((await h.request({ method: 'GET', url: '/v1/calendar/closures?from=2026-06-02&to=2026-06-01' })).statusCode, 400, 'from after to');
  t.equal((await h.request({ method: 'GET', url: '/v1/calendar/closures?cursor=nonsense' })).statusCode, 400);
  t.same(await snapshot(h), before, 'nothing changed by the refusals');
  t.equal((await h.request({ method: 'PUT', url: '/v1/calendar/closures/2026-05-01', payload: {} })).statusCode, 201, 'today may still be closed');
});
