// Database outage (npm run test:faults): the service runs as a child process against a PostgreSQL of
// this test's own, under light load (status reads, resident reads, resident-event writes, readiness).
// PostgreSQL is stopped for OUTAGE_MS and started again on the same data directory and port. While it
// is down, /health/ready must be 503 and every other request a 503 problem+json with Retry-After,
// none taking longer than DB_STATEMENT_TIMEOUT_MS + a margin; afterwards the same process must
// recover (ready again, writes accepted) and every write it acknowledged must be in the database.
import pg from 'pg';
import t from 'tap';
import { ADMIN_KEY } from '../support/app.js';
import { jstToday, startService } from '../support/service-process.js';
import { freePort, startTestPostgres } from '../support/postgres-server.js';

const OUTAGE_MS = 10_000;
const STATEMENT_TIMEOUT_MS = 2000;
/** Slack for a loaded 2-core machine on top of the statement/connect timeout. */
const HANG_LIMIT_MS = STATEMENT_TIMEOUT_MS + 5000;
const WORKERS = 3;
const auth = { authorization: `Bearer ${ADMIN_KEY}` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  kind: 'ready' | 'status' | 'resident' | 'write';
  start: number;
  end: number;
  status: number; // 0: no answer (socket error or our 60 s abort)
  type: string;
  retryAfter: string | null;
  eventId?: string;
  error?: string;
}

t.test(`PostgreSQL stopped for ${OUTAGE_MS / 1000} s under load: 503 with Retry-After while down, recovery without restart, no acknowledged write lost`, async (t) => {
  const server = await startTestPostgres('outage');
  t.teardown(() => server.stop());
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  await admin.query('CREATE DATABASE outage');
  await admin.end();
  const dbUrl = server.urlFor('outage');

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    DATABASE_URL: dbUrl, PORT: String(port), ADMIN_API_KEY: ADMIN_KEY, ENFORCE_OPENING_HOURS: 'false', LOG_LEVEL: 'warn', NODE_ENV: 'development',
    MAX_EVENT_LOOP_DELAY_MS: '0', RATE_LIMIT_MAX: '0', DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
  };
  // The service migrates the empty database and makes its CAs on start-up.
  const service = await startService(env, port, 1800);
  t.teardown(() => {
    service.child.kill('SIGTERM');
  });

  const post = async (url: string, body: object) => {
    const r = await fetch(`${base}${url}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (r.status !== 201) throw new Error(`${url}: ${r.status} ${await r.text()}`);
    return r.json() as Promise<any>;
  };
  const nowIso = new Date().toISOString();
  await post('/v1/resident-events', { eventId: 'o-reg-holder', residentCode: 'OH1', type: 'registered', effectiveAt: '2020-01-01T00:00:00Z', data: { name: '停止 太郎', address: '東京都新宿区1', dateOfBirth: '1980-01-01', sex: 'male' } });
  const { card } = await post('/v1/residents/OH1/cards', { officeId: 'main', receivedAt: nowIso, issuedOn: jstToday() });
  const { certificate } = await post(`/v1/cards/${card.cardId}/certificates`, { kind: 'userAuthentication', officeId: 'main', receivedAt: nowIso, applicant: { type: 'self' }, generateKey: true });

  // Light load: each worker loops over a readiness probe, a status read, a resident read and a write.
  const outcomes: Outcome[] = [];
  let writes = 0;
  let running = true;
  const call = async (kind: Outcome['kind'], url: string, body?: object): Promise<void> => {
    const start = performance.now();
    const eventId = (body as { eventId?: string } | undefined)?.eventId;
    try {
      const r = await fetch(`${base}${url}`, {
        method: body ? 'POST' : 'GET',
        headers: { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(60_000),
      });
      await r.arrayBuffer();
      outcomes.push({ kind, start, end: performance.now(), status: r.status, type: r.headers.get('content-type') ?? '', retryAfter: r.headers.get('retry-after'), ...(eventId ? { eventId } : {}) });
    } catch (error) {
      outcomes.push({ kind, start, end: performance.now(), status: 0, type: '', retryAfter: null, error: String(error), ...(eventId ? { eventId } : {}) });
    }
  };
  const worker = async (w: number) => {
    while (running) {
      await call('ready', '/health/ready');
      await call('status', `/v1/certificates/${certificate.serial}`);
      await call('resident', '/v1/residents/OH1');
      const n = ++writes;
      await call('write', '/v1/resident-events', {
        eventId: `o-reg-${n}`, residentCode: `O${n}`, type: 'registered', effectiveAt: '2020-01-01T00:00:00Z',
        data: { name: `負荷 ${n}`, address: `東京都新宿区${w}-${n}`, dateOfBirth: '1990-01-01', sex: 'female' },
      });
      await sleep(50);
    }
  };
  const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));

  await sleep(5000);
  const stopping = performance.now();
  await server.stopServer();
  const down = performance.now();
  t.comment(`PostgreSQL stopped in ${Math.round(down - stopping)} ms`);
  await sleep(OUTAGE_MS);
  const starting = performance.now();
  await server.startServer();
  const up = performance.now();
  t.comment(`PostgreSQL started again in ${Math.round(up - starting)} ms`);

  // Recovery: ready again without restarting the service.
  let readyAt: number | undefined;
  while (performance.now() - up < 60_000) {
    const r = await fetch(`${base}/health/ready`).catch(() => undefined);
    if (r?.status === 200) {
      readyAt = performance.now();
      break;
    }
    await sleep(200);
  }
  t.ok(readyAt !== undefined, 'ready again');
  t.comment(`ready ${readyAt === undefined ? 'never' : `${Math.round(readyAt - up)} ms`} after PostgreSQL accepted connections`);
  t.ok(readyAt === undefined || readyAt - up < 30_000, 'ready within 30 s of PostgreSQL coming back');
  await sleep(5000);
  running = false;
  await Promise.all(workers);
  t.equal(service.child.exitCode, null, 'the same service process throughout (no restart)');

  const durations = outcomes.map((o) => o.end - o.start);
  const slowest = Math.max(...durations);
  t.comment(`${outcomes.length} requests, slowest ${Math.round(slowest)} ms`);
  t.same(outcomes.filter((o) => !(o.status >= 200 && o.status < 300) && o.status !== 503), [], 'every answer 2xx or 503: no 500, no other refusal, none unanswered');
  t.same(outcomes.filter((o) => o.end - o.start > HANG_LIMIT_MS), [], `no request took longer than ${HANG_LIMIT_MS} ms (DB_STATEMENT_TIMEOUT_MS ${STATEMENT_TIMEOUT_MS} + 5 s)`);

  // Entirely while PostgreSQL was down (sent after it stopped, answered before it was started again).
  const whileDown = outcomes.filter((o) => o.start >= down && o.end <= starting);
  const count = (k: Outcome['kind']) => whileDown.filter((o) => o.kind === k).length;
  t.comment(`while down: ${whileDown.length} requests (ready ${count('ready')}, status ${count('status')}, resident ${count('resident')}, write ${count('write')})`);
  t.ok(count('ready') > 0 && count('status') > 0 && count('write') > 0, 'each kind was tried while down');
  t.same(whileDown.filter((o) => o.status !== 503), [], 'every request while down: 503');
  t.same(whileDown.filter((o) => o.kind !== 'ready' && !(o.type.startsWith('application/problem+json') && o.retryAfter)), [], 'as problem+json with Retry-After');
  t.same(whileDown.filter((o) => o.kind === 'ready' && !o.retryAfter), [], '/health/ready 503 with Retry-After');

  // After recovery: everything answered.
  const afterReady = outcomes.filter((o) => readyAt !== undefined && o.start >= readyAt);
  t.ok(afterReady.filter((o) => o.kind === 'write').length > 0, 'writes were made after recovery');
  t.same(afterReady.filter((o) => o.status >= 300), [], 'every request after recovery succeeded');

  // Every acknowledged write is stored (before, during the edges of, and after the outage).
  const acknowledged = outcomes.filter((o) => o.kind === 'write' && o.status >= 200 && o.status < 300).map((o) => o.eventId!);
  const beforeStop = outcomes.filter((o) => o.kind === 'write' && o.status >= 200 && o.status < 300 && o.end <= stopping).length;
  const refused = outcomes.filter((o) => o.kind === 'write' && o.status === 503).length;
  t.comment(`writes: ${acknowledged.length} acknowledged (${beforeStop} before the stop), ${refused} refused with 503`);
  t.ok(beforeStop > 0, 'writes were acknowledged before the stop');
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const stored = await c.query('SELECT count(*)::int AS n FROM resident_events WHERE event_id = ANY($1)', [acknowledged]);
    t.equal(stored.rows[0].n, acknowledged.length, 'every acknowledged write is in the database');
    const residents = await c.query(`SELECT count(*)::int AS n FROM residents WHERE resident_code = ANY($1)`, [acknowledged.map((e) => `O${e.slice('o-reg-'.length)}`)]);
    t.equal(residents.rows[0].n, acknowledged.length, 'with its resident');
  } finally {
    await c.end();
  }
});
