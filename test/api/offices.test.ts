import t from 'tap';
import { testApp, type TestApp } from '../support/app.js';

const problemJson = /^application\/problem\+json/;

interface Day { date: string; open: boolean; intervals: { opensAt: string; closesAt: string }[]; reason?: string }

async function schedule(h: TestApp, officeId: string, from: string, to: string): Promise<Map<string, Day>> {
  const res = await h.request({ method: 'GET', url: `/v1/offices/${officeId}/schedule?from=${from}&to=${to}` });
  if (res.statusCode !== 200) throw new Error(`schedule ${res.statusCode}: ${res.body}`);
  return new Map((res.json().days as Day[]).map((d) => [d.date, d]));
}

t.test('offices: the main office and its ten branch offices, with their hours', async (t) => {
  const h = await testApp(t);
  const res = await h.request({ method: 'GET', url: '/v1/offices' });
  t.equal(res.statusCode, 200);
  const { items, nextCursor } = res.json();
  t.equal(items.length, 11);
  t.equal(nextCursor, null);
  t.same(items[0], {
    officeId: 'main', name: '本庁舎1階 戸籍住民課', nameEn: 'Main Office (1F, Family Register and Residents Division)', kind: 'main',
    hours: { weekday: { opensAt: '08:30', closesAt: '17:00' }, tuesday: { opensAt: '08:30', closesAt: '19:00' }, fourthSunday: { opensAt: '09:00', closesAt: '17:00' } },
  });
  t.same(items.filter((o: { kind: string }) => o.kind === 'branch').length, 10);
  t.ok(items.slice(1).every((o: { hours: { fourthSunday: unknown } }) => o.hours.fourthSunday === null), 'no branch opens on Sundays');

  const first = (await h.request({ method: 'GET', url: '/v1/offices?limit=4' })).json();
  const rest = (await h.request({ method: 'GET', url: `/v1/offices?limit=100&cursor=${first.nextCursor}` })).json();
  t.same([...first.items, ...rest.items].map((o: { officeId: string }) => o.officeId), items.map((o: { officeId: string }) => o.officeId), 'pages cover the list once');
});

t.test('the 2026 schedule through the API', async (t) => {
  const h = await testApp(t);
  const main = await schedule(h, 'main', '2026-01-01', '2026-12-31');
  t.equal(main.size, 365);
  const yotsuya = await schedule(h, 'yotsuya', '2026-01-01', '2026-12-31');

  t.same(main.get('2026-01-12'), { date: '2026-01-12', open: false, intervals: [], reason: 'holiday' }, 'Coming of Age Day');
  t.same(main.get('2026-09-22'), { date: '2026-09-22', open: false, intervals: [], reason: 'holiday' }, "citizens' holiday (a Tuesday)");
  t.same(main.get('2026-05-06'), { date: '2026-05-06', open: false, intervals: [], reason: 'holiday' }, 'substitute holiday');

  const sunday = { date: '2026-05-24', open: true, intervals: [{ opensAt: '2026-05-24T09:00:00+09:00', closesAt: '2026-05-24T17:00:00+09:00' }] };
  t.same(main.get('2026-05-24'), sunday, '4th Sunday: the main office opens 09:00–17:00');
  t.same(yotsuya.get('2026-05-24'), { date: '2026-05-24', open: false, intervals: [], reason: 'weekend' }, 'but not a branch');
  t.same(main.get('2026-05-17')?.reason, 'weekend', 'a 3rd Sunday is closed');
  t.same(main.get('2026-05-31')?.reason, 'weekend', 'a 5th Sunday is closed');
  t.same(main.get('2026-05-23')?.reason, 'weekend', 'Saturdays are closed');

  t.same(main.get('2026-06-09')?.intervals, [{ opensAt: '2026-06-09T08:30:00+09:00', closesAt: '2026-06-09T19:00:00+09:00' }], 'Tuesday to 19:00');
  t.same(yotsuya.get('2026-06-09')?.intervals, [{ opensAt: '2026-06-09T08:30:00+09:00', closesAt: '2026-06-09T19:00:00+09:00' }], 'at branches too');
  t.same(main.get('2026-06-10')?.intervals, [{ opensAt: '2026-06-10T08:30:00+09:00', closesAt: '2026-06-10T17:00:00+09:00' }], 'other weekdays to 17:00');

  for (const date of ['2026-12-29', '2026-12-30', '2026-12-31', '2026-01-02', '2026-01-03']) {
    t.equal(main.get(date)?.reason, 'yearEnd', `${date} year end`);
    t.equal(yotsuya.get(date)?.reason, 'yearEnd');
  }
  t.equal(main.get('2026-12-28')?.open, true, '28 December is a normal Monday');
  t.equal(main.get('2026-12-27')?.open, true, 'and 27 December is the last 4th Sunday');
  t.equal(main.get('2026-01-01')?.reason, 'yearEnd', 'New Year\'s Day is reported as year end');

  const openMain = [...main.values()].filter((d) => d.open).length;
  const openBranch = [...yotsuya.values()].filter((d) => d.open).length;
  t.equal(openMain - openBranch, 12, 'the main office opens on the twelve 4th Sundays more');
});

t.test('schedule and open-state refusals', async (t) => {
  const h = await testApp(t);
  const get = (url: string) => h.request({ method: 'GET', url });
  for (const [url, what] of [
    ['/v1/offices/main/schedule?from=2026-13-01&to=2026-12-31', 'bad date'],
    ['/v1/offices/main/schedule?from=2026-02-29&to=2026-03-31', 'no such date'],
    ['/v1/offices/main/schedule?from=2026-12-31&to=2026-01-01', 'from after to'],
    ['/v1/offices/main/schedule?from=2026-01-01&to=2027-01-02', 'over 366 days'],
    ['/v1/offices/main/schedule?from=2026-01-01', 'missing to'],
    ['/v1/offices/main/schedule?from=2026-01-01&to=2026-01-02&extra=1', 'unknown parameter'],
    ['/v1/offices/main/open?at=tomorrow', 'bad instant'],
    ['/v1/offices/main/open?at=2026-06-30T23:59:60%2B09:00', 'a leap second'],
    ['/v1/offices/main/schedule?from=0000-01-01&to=2020-02-09', 'year 0000 (ISO has it, PostgreSQL does not)'],
    ['/v1/offices/main/open?at=0000-01-01T00:00:00Z', 'an instant in year 0000'],
  ] as const) {
    const res = await get(url);
    t.equal(res.statusCode, 400, what);
    t.match(res.headers['content-type'], problemJson, what);
  }
  t.equal((await get('/v1/offices/main/schedule?from=2026-01-01&to=2027-01-01')).statusCode, 200, '366 days are allowed');
  t.equal((await get('/v1/offices/main/schedule?from=2026-01-01&to=2026-01-01')).json().days.length, 1, 'both ends included');

  const unknown = await get('/v1/offices/nowhere/schedule?from=2026-01-01&to=2026-01-02');
  t.equal(unknown.statusCode, 404);
  t.equal(unknown.json().type, 'urn:jpki-ward:problem:officeNotFound');
  t.equal((await get('/v1/offices/nowhere/open')).statusCode, 404);

  const beyond = await get('/v1/offices/main/schedule?from=2051-01-01&to=2051-01-31');
  t.equal(beyond.statusCode, 422, 'no holiday data: a clear error, not a guess');
  t.equal(beyond.json().type, 'urn:jpki-ward:problem:holidayDataOutOfRange');
  t.match(beyond.json().detail, /2051/);
  t.equal((await get('/v1/offices/main/open?at=2051-06-01T10:00:00%2B09:00')).statusCode, 422);
});

t.test('open now or at a moment; half-open intervals', async (t) => {
  const h = await testApp(t);
  const open = async (at?: string) =>
    (await h.request({ method: 'GET', url: `/v1/offices/main/open${at ? `?at=${encodeURIComponent(at)}` : ''}` })).json();

  t.same(await open('2026-06-10T10:00:00+09:00'), { open: true, closesAt: '2026-06-10T17:00:00+09:00', nextOpensAt: '2026-06-11T08:30:00+09:00' });
  t.same(await open('2026-06-10T17:00:00+09:00'), { open: false, nextOpensAt: '2026-06-11T08:30:00+09:00' }, 'at 17:00 sharp it is closed');
  t.same(await open('2026-06-10T16:59:59+09:00'), { open: true, closesAt: '2026-06-10T17:00:00+09:00', nextOpensAt: '2026-06-11T08:30:00+09:00' });
  t.same(await open('2026-06-10T08:30:00+09:00'), { open: true, closesAt: '2026-06-10T17:00:00+09:00', nextOpensAt: '2026-06-11T08:30:00+09:00' }, 'open at 08:30 sharp');
  t.same(await open('2026-06-09T09:00:00Z'), { open: true, closesAt: '2026-06-09T19:00:00+09:00', nextOpensAt: '2026-06-10T08:30:00+09:00' }, 'a UTC instant: 18:00 on a Tuesday in Tokyo');
  t.same(await open('2026-12-28T18:00:00+09:00'), { open: false, nextOpensAt: '2027-01-04T08:30:00+09:00' }, 'over the year end');
  t.same(await open('2026-05-23T12:00:00+09:00'), { open: false, nextOpensAt: '2026-05-24T09:00:00+09:00' }, 'the 4th Sunday opening is next');

  h.app.clock.set(new Date('2026-06-10T12:00:00+09:00'));
  t.same(await open(), { open: true, closesAt: '2026-06-10T17:00:00+09:00', nextOpensAt: '2026-06-11T08:30:00+09:00' }, 'default: now by the service clock');
});
