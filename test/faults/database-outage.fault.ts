// Database faults (npm run test:faults): the service runs as a child process against a PostgreSQL of
// this test's own, under light load (status reads, resident reads, resident-event writes, readiness).
//
// 1. Stopped: PostgreSQL is shut down for OUTAGE_MS and started again on the same data directory and
//    port (connections refused meanwhile).
// 2. Hung: every PostgreSQL process (postmaster and backends) is sent SIGSTOP for HANG_MS and then
//    SIGCONT: connections stay open and connects are accepted by the kernel, but nothing answers, which
//    the server-side statement_timeout cannot catch; the client-side query timeout
//    (src/db/connection.ts queryTimeoutMs) must.
//
// Either way, while the database is away /health/ready must be 503 and every other request a 503
// problem+json with Retry-After, none taking longer than the timeouts + a margin; afterwards the same
// process must recover (ready again, writes accepted) and every write it acknowledged must be stored.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import t, { type Test } from 'tap';
import { queryTimeoutMs } from '../../src/db/connection.js';
import { ADMIN_KEY } from '../support/app.js';
import { jstToday, startService } from '../support/service-process.js';
import { freePort, startTestPostgres, type TestPostgres } from '../support/postgres-server.js';

const OUTAGE_MS = 10_000;
const HANG_MS = 8000;
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

interface Harness {
  server: TestPostgres;
  dbUrl: string;
  base: string;
  service: Awaited<ReturnType<typeof startService>>;
  serial: string;
}

/** Its own PostgreSQL, the service on it, one resident with a card and a certificate. */
async function harness(t: Test, name: string, statementTimeoutMs: number): Promise<Harness> {
  const server = await startTestPostgres(name);
  t.teardown(() => server.stop());
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const dbUrl = server.urlFor(name);

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    DATABASE_URL: dbUrl, PORT: String(port), ADMIN_API_KEY: ADMIN_KEY, ENFORCE_OPENING_HOURS: 'false', LOG_LEVEL: 'warn', NODE_ENV: 'development',
    MAX_EVENT_LOOP_DELAY_MS: '0', RATE_LIMIT_MAX: '0', DB_STATEMENT_TIMEOUT_MS: String(statementTimeoutMs),
  };
  // The service migrates the empty database and makes its CAs on start-up.
  const service = await startService(env, port, 1800);
  t.teardown(() => {
    service.child.kill('SIGTERM');
  });

  const post = async (url: string, body: object) => {
    const r = await fetch(`${base}${url}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (r.status !== 201) throw new Error(`${url}: ${r.status} ${await r.text()}\n${service.log().slice(-3000)}`);
    return r.json() as Promise<any>;
  };
  const nowIso = new Date().toISOString();
  await post('/v1/resident-events', { eventId: 'o-reg-holder', residentCode: 'OH1', type: 'registered', effectiveAt: '2020-01-01T00:00:00Z', data: { name: '停止 太郎', address: '東京都新宿区1', dateOfBirth: '1980-01-01', sex: 'male' } });
  const { card } = await post('/v1/residents/OH1/cards', { officeId: 'main', receivedAt: nowIso, issuedOn: jstToday() });
  const { certificate } = await post(`/v1/cards/${card.cardId}/certificates`, { kind: 'userAuthentication', officeId: 'main', receivedAt: nowIso, applicant: { type: 'self' }, generateKey: true });
  return { server, dbUrl, base, service, serial: certificate.serial };
}

/** Light load: each worker loops over a readiness probe, a status read, a resident read and a write. */
function load(h: Harness): { outcomes: Outcome[]; stop(): Promise<void> } {
  const outcomes: Outcome[] = [];
  let writes = 0;
  let running = true;
  const call = async (kind: Outcome['kind'], url: string, body?: object): Promise<void> => {
    const start = performance.now();
    const eventId = (body as { eventId?: string } | undefined)?.eventId;
    try {
      const r = await fetch(`${h.base}${url}`, {
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
      await call('status', `/v1/certificates/${h.serial}`);
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
  return {
    outcomes,
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** Polls /health/ready until 200 (at most 60 s); the moment it was, or undefined. */
async function readyAgain(h: Harness, since: number): Promise<number | undefined> {
  while (performance.now() - since < 60_000) {
    const r = await fetch(`${h.base}/health/ready`).catch(() => undefined);
    if (r?.status === 200) return performance.now();
    await sleep(200);
  }
  return undefined;
}

/**
 * What must hold around a fault from `away` (the database gone) to `back` (asked to return):
 * no 500, no hang, 503s while away, recovery, and every acknowledged write stored.
 */
async function checkFault(t: Test, h: Harness, outcomes: Outcome[], times: { before: number; away: number; back: number; readyAt: number | undefined }, hangLimitMs: number, hangLimitWhy: string) {
  t.equal(h.service.child.exitCode, null, 'the same service process throughout (no restart)');
  const durations = outcomes.map((o) => o.end - o.start);
  t.comment(`${outcomes.length} requests, slowest ${Math.round(Math.max(...durations))} ms`);
  t.same(outcomes.filter((o) => !(o.status >= 200 && o.status < 300) && o.status !== 503), [], 'every answer 2xx or 503: no 500, no other refusal, none unanswered');
  t.same(outcomes.filter((o) => o.end - o.start > hangLimitMs), [], `no request took longer than ${hangLimitMs} ms (${hangLimitWhy})`);

  // Entirely while the database was away (sent after it went, answered before it was back).
  const whileAway = outcomes.filter((o) => o.start >= times.away && o.end <= times.back);
  const count = (k: Outcome['kind']) => whileAway.filter((o) => o.kind === k).length;
  t.comment(`while away: ${whileAway.length} requests (ready ${count('ready')}, status ${count('status')}, resident ${count('resident')}, write ${count('write')})`);
  t.ok(count('ready') > 0 && count('status') > 0 && count('write') > 0, 'each kind was tried and answered while away');
  t.same(whileAway.filter((o) => o.status !== 503), [], 'every request while away: 503');
  t.same(whileAway.filter((o) => o.kind !== 'ready' && !(o.type.startsWith('application/problem+json') && o.retryAfter)), [], 'as problem+json with Retry-After');
  t.same(whileAway.filter((o) => o.kind === 'ready' && !o.retryAfter), [], '/health/ready 503 with Retry-After');

  // After recovery: everything answered.
  const afterReady = outcomes.filter((o) => times.readyAt !== undefined && o.start >= times.readyAt);
  t.ok(afterReady.filter((o) => o.kind === 'write').length > 0, 'writes were made after recovery');
  t.same(afterReady.filter((o) => o.status >= 300), [], 'every request after recovery succeeded');

  // Every acknowledged write is stored (before, during the edges of, and after the fault).
  const acknowledged = outcomes.filter((o) => o.kind === 'write' && o.status >= 200 && o.status < 300).map((o) => o.eventId!);
  const beforeFault = outcomes.filter((o) => o.kind === 'write' && o.status >= 200 && o.status < 300 && o.end <= times.before).length;
  const refused = outcomes.filter((o) => o.kind === 'write' && o.status === 503).length;
  t.comment(`writes: ${acknowledged.length} acknowledged (${beforeFault} before the fault), ${refused} refused with 503`);
  t.ok(beforeFault > 0, 'writes were acknowledged before the fault');
  const c = new pg.Client({ connectionString: h.dbUrl });
  await c.connect();
  try {
    const stored = await c.query('SELECT count(*)::int AS n FROM resident_events WHERE event_id = ANY($1)', [acknowledged]);
    t.equal(stored.rows[0].n, acknowledged.length, 'every acknowledged write is in the database');
    const residents = await c.query(`SELECT count(*)::int AS n FROM residents WHERE resident_code = ANY($1)`, [acknowledged.map((e) => `O${e.slice('o-reg-'.length)}`)]);
    t.equal(residents.rows[0].n, acknowledged.length, 'with its resident');
  } finally {
    await c.end();
  }
}

t.test(`PostgreSQL stopped for ${OUTAGE_MS / 1000} s under load: 503 with Retry-After while down, recovery without restart, no acknowledged write lost`, async (t) => {
  const statementTimeoutMs = 2000;
  const h = await harness(t, 'outage', statementTimeoutMs);
  const l = load(h);
  await sleep(5000);
  const stopping = performance.now();
  await h.server.stopServer();
  const down = performance.now();
  t.comment(`PostgreSQL stopped in ${Math.round(down - stopping)} ms`);
  await sleep(OUTAGE_MS);
  const starting = performance.now();
  await h.server.startServer();
  const up = performance.now();
  t.comment(`PostgreSQL started again in ${Math.round(up - starting)} ms`);

  // Recovery: ready again without restarting the service.
  const readyAt = await readyAgain(h, up);
  t.ok(readyAt !== undefined, 'ready again');
  t.comment(`ready ${readyAt === undefined ? 'never' : `${Math.round(readyAt - up)} ms`} after PostgreSQL accepted connections`);
  t.ok(readyAt === undefined || readyAt - up < 30_000, 'ready within 30 s of PostgreSQL coming back');
  await sleep(5000);
  await l.stop();
  // Slack for a loaded 2-core machine on top of the statement/connect timeout.
  await checkFault(t, h, l.outcomes, { before: stopping, away: down, back: starting, readyAt }, statementTimeoutMs + 5000, `DB_STATEMENT_TIMEOUT_MS ${statementTimeoutMs} + 5 s`);
});

/** The postmaster and every process it started (backends, checkpointer, …), from /proc. */
function postgresProcesses(server: TestPostgres): number[] {
  const postmaster = Number(readFileSync(path.join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      // Field 4 of /proc/<pid>/stat is the parent pid; the command name (field 2) may hold spaces.
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster ? [Number(d)] : [];
    } catch {
      return [];
    }
  });
  return [postmaster, ...children];
}

t.test(`PostgreSQL hung (SIGSTOP) for ${HANG_MS / 1000} s under load: no request hangs past the client-side query timeout, 503 while hung, recovery after SIGCONT`, async (t) => {
  const statementTimeoutMs = 1500;
  const h = await harness(t, 'hang', statementTimeoutMs);
  const l = load(h);
  await sleep(4000);
  const stopped = postgresProcesses(h.server);
  t.ok(stopped.length >= 3, `${stopped.length} PostgreSQL processes (postmaster and its children)`);
  const resume = () => {
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
  };
  t.teardown(resume);
  const away = performance.now();
  for (const pid of stopped) process.kill(pid, 'SIGSTOP');
  await sleep(HANG_MS);
  const back = performance.now();
  resume();

  const readyAt = await readyAgain(h, back);
  t.ok(readyAt !== undefined, 'ready again');
  t.comment(`ready ${readyAt === undefined ? 'never' : `${Math.round(readyAt - back)} ms`} after SIGCONT`);
  t.ok(readyAt === undefined || readyAt - back < 30_000, 'ready within 30 s of SIGCONT');
  await sleep(4000);
  await l.stop();
  // A request may wait for a connection (connect timeout = statement timeout) and then for a query
  // that gets no answer (queryTimeoutMs); 2 s of slack for the loaded machine. Without the client-side
  // timeout a request in flight at the SIGSTOP waits the whole HANG_MS.
  const limit = statementTimeoutMs + queryTimeoutMs(statementTimeoutMs) + 2000;
  t.ok(limit < HANG_MS, 'the limit is below the hang, so a request waiting it out would fail the test');
  await checkFault(t, h, l.outcomes, { before: away, away, back, readyAt }, limit, `connect ${statementTimeoutMs} ms + query timeout ${queryTimeoutMs(statementTimeoutMs)} ms + 2 s`);
});
