import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { DEFAULT_FEE_SCHEDULES } from '../../src/domain/fees.js';
import { cacheBus } from '../../src/services/cache-invalidation.js';
import { ADMIN_KEY, testApp } from '../support/app.js';
import { within } from '../support/poll.js';
import { runLogStream } from '../support/run-log.js';

/**
 * Offices, closures and fee schedules are read from memory (src/services/reference-data.ts). Two
 * service instances on one database, each with its own caches and LISTEN connection, as two
 * processes have: a change made through one — or by hand in the database — is seen by the other
 * within a second (NOTIFY reference_data_changed), and by the one that made it at once.
 */
// The 2016 schedule with a dearer reissue.
const FEES_2026_06_02 = { ...DEFAULT_FEE_SCHEDULES[0]!.fees, certificateReissue: [{ item: 'certificates', amount: 300 }] };

const auth = { authorization: `Bearer ${ADMIN_KEY}` };

t.test('a change through one instance, or by hand, is seen by another that had it in memory', async (t) => {
  const a = await testApp(t);
  const b: FastifyInstance = await buildApp(loadConfig({
    NODE_ENV: 'test', LOG_LEVEL: 'warn', DATABASE_URL: a.databaseUrl, ADMIN_API_KEY: ADMIN_KEY, CLOCK_CONTROL: 'enabled', MAX_EVENT_LOOP_DELAY_MS: '0',
  }), { logStream: runLogStream('app') });
  await b.ready();
  t.teardown(() => b.close());
  // Until an instance listens its caches stay off, which would make this test pass for nothing.
  t.ok(await within(10_000, async () => cacheBus(a.app.ctx).live && cacheBus(b.ctx).live) >= 0, 'both instances listen');
  for (const app of [a.app, b]) app.clock.set(new Date('2026-06-01T09:00:00+09:00'));

  const quoteOn = async (app: FastifyInstance) => (await app.inject({
    method: 'POST', url: '/v1/fees/quote', headers: auth, payload: { procedure: 'certificateReissue', on: '2026-06-02' },
  })).json().total as number;
  const openAt = async (app: FastifyInstance, office: string, at: string) => (await app.inject({
    method: 'GET', url: `/v1/offices/${office}/open?at=${encodeURIComponent(at)}`, headers: auth,
  })).json().open as boolean;

  // B reads each of them (and keeps them) before the changes.
  for (let i = 0; i < 2; i++) {
    t.equal(await quoteOn(b), 200, 'B quotes the 2016 schedule');
    t.equal(await openAt(b, 'main', '2026-06-02T10:00:00+09:00'), true, 'B: main is open on the 2nd');
    t.equal(await openAt(b, 'yotsuya', '2026-06-03T10:00:00+09:00'), true, 'B: yotsuya is open on the 3rd at 10:00');
  }

  t.equal((await a.request({ method: 'POST', url: '/v1/fees/schedules', payload: { effectiveFrom: '2026-06-02', fees: FEES_2026_06_02 } })).statusCode, 201);
  t.equal(await quoteOn(a.app), 300, 'A quotes its new schedule at once');
  const feeMs = await within(1000, async () => (await quoteOn(b)) === 300);
  t.ok(feeMs >= 0, `B quotes the new schedule within 1 s (${Math.round(feeMs)} ms)`);

  t.equal((await a.request({ method: 'PUT', url: '/v1/calendar/closures/2026-06-02', payload: { officeId: 'main' } })).statusCode, 201);
  t.equal(await openAt(a.app, 'main', '2026-06-02T10:00:00+09:00'), false, 'A: closed at once');
  const closureMs = await within(1000, async () => !(await openAt(b, 'main', '2026-06-02T10:00:00+09:00')));
  t.ok(closureMs >= 0, `B sees the closure within 1 s (${Math.round(closureMs)} ms)`);

  // No route changes an office: by hand.
  const client = new pg.Client({ connectionString: a.databaseUrl });
  await client.connect();
  try {
    await client.query(`UPDATE offices SET weekday_opens_at = '11:00' WHERE office_id = 'yotsuya'`);
  } finally {
    await client.end();
  }
  const officeMs = await within(1000, async () => !(await openAt(b, 'yotsuya', '2026-06-03T10:00:00+09:00')));
  t.ok(officeMs >= 0, `B sees the office's new hours within 1 s (${Math.round(officeMs)} ms)`);
  t.equal(await openAt(a.app, 'yotsuya', '2026-06-03T10:00:00+09:00'), false, 'and so does A');

  const refused = await b.inject({ method: 'DELETE', url: '/v1/calendar/closures/2026-06-02?officeId=main', headers: auth });
  t.equal(refused.statusCode, 204, 'B reopens the day');
  t.equal(await openAt(b, 'main', '2026-06-02T10:00:00+09:00'), true, 'B: open again at once');
  const reopenMs = await within(1000, async () => await openAt(a.app, 'main', '2026-06-02T10:00:00+09:00'));
  t.ok(reopenMs >= 0, `A sees it within 1 s (${Math.round(reopenMs)} ms)`);
});
