import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createTestDatabase } from '../support/database.js';
import { teeToRunLog } from '../support/run-log.js';
import { alive, freePort } from '../support/postgres-server.js';

/**
 * WORKERS=2 as `npm start` runs it (scripts/start.mjs): one node:cluster primary and two workers on
 * one port and one database, the workers sharing DATA_DIR and its generated admin key. A worker
 * killed with SIGKILL is replaced while the other keeps answering; SIGTERM to the primary closes
 * every worker and exits 0, leaving no process behind.
 */
const root = new URL('../..', import.meta.url).pathname;

interface LogLine { msg?: string; pid?: number; workerPid?: number; req?: unknown }

/** The pids whose parent is `pid` (/proc/<pid>/stat, field 4). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** One GET on a connection of its own (no keep-alive), so that the primary hands each to the next worker. */
function get(port: number, url: string, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: url, agent: false, headers: { authorization: `Bearer ${key}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 120_000): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > end) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `npm start` with `env`, its JSON log lines collected as they come (workers write to the same stdout). */
function startPrimary(env: Record<string, string>, stderr: 'inherit' | 'ignore' = 'inherit') {
  const primary = spawn(process.execPath, ['scripts/start.mjs'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', stderr] });
  teeToRunLog(primary, 'service');
  const lines: LogLine[] = [];
  let rest = '';
  primary.stdout!.on('data', (chunk: Buffer) => {
    rest += chunk.toString();
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log line
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => primary.once('exit', (code, signal) => resolve({ code, signal })));
  const workerPids = (msg: string) => lines.filter((l) => l.msg === msg).map((l) => l.workerPid!);
  return { primary, lines, exited, workerPids };
}

t.test('WORKERS=2: two workers serve one port; a killed worker is replaced; SIGTERM closes all with exit 0', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const dataDir = mkdtempSync(path.join(tmpdir(), 'jpki-workers-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  // No ADMIN_API_KEY: both workers start together on one DATA_DIR and must agree on the generated key.
  const { primary, lines, exited, workerPids } = startPrimary({
    NODE_ENV: 'development', LOG_LEVEL: 'info', DATABASE_URL: database.url, DATA_DIR: dataDir, ADMIN_API_KEY: '', WORKERS: '2', PORT: String(port), MAX_EVENT_LOOP_DELAY_MS: '0', RATE_LIMIT_MAX: '0',
  });
  const seen = new Set<number>();
  t.teardown(() => {
    for (const pid of [primary.pid!, ...seen]) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  const listening = () => workerPids('worker listening');

  const first = await until('two workers listening', () => (listening().length >= 2 ? listening() : undefined));
  first.forEach((pid) => seen.add(pid));
  t.equal(new Set(first).size, 2, `two distinct worker pids (${first.join(', ')})`);
  t.not(first[0], primary.pid, 'the workers are not the primary');
  t.same(childrenOf(primary.pid!).filter((pid) => first.includes(pid)).sort(), [...first].sort(), 'both are children of the primary');

  const key = readFileSync(path.join(dataDir, 'admin-api-key'), 'utf8').trim();
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push(await get(port, '/v1/api-keys', key));
  t.same(statuses, Array(8).fill(200), 'eight requests on new connections, all answered with the one generated admin key');
  const answeredBy = new Set(lines.filter((l) => l.msg === 'request completed').map((l) => l.pid));
  t.ok(first.every((pid) => answeredBy.has(pid)), 'both workers answered requests');
  t.notOk(answeredBy.has(primary.pid), 'the primary answered none');

  const [victim, survivor] = first as [number, number];
  process.kill(victim, 'SIGKILL');
  const replacement = await until('a replacement worker listening', () => listening().find((pid) => !first.includes(pid)));
  seen.add(replacement);
  t.ok(lines.some((l) => l.msg === 'worker died unexpectedly' && l.workerPid === victim), 'the primary logged the death');
  await until('the killed worker gone', () => (alive(victim) ? undefined : true));
  t.same(childrenOf(primary.pid!).filter((pid) => seen.has(pid)).sort(), [survivor, replacement].sort(), 'the survivor and the replacement are the workers now');
  const after: number[] = [];
  for (let i = 0; i < 6; i++) after.push(await get(port, '/health/ready', key));
  t.same(after, Array(6).fill(200), 'the service still answers');

  primary.kill('SIGTERM');
  const { code, signal } = await exited;
  t.equal(code, 0, `the primary exits 0 once the workers closed (signal ${signal})`);
  t.equal(lines.filter((l) => l.msg === 'worker closed').length, 2, 'both workers closed');
  for (const pid of [primary.pid!, ...seen]) t.notOk(alive(pid), `no process left: ${pid}`);
});

t.test('workers that keep dying at start-up: the primary gives up and exits 1, leaving no process behind', async (t) => {
  // Nothing listens on this port: every worker fails its first database query.
  const nowhere = await freePort();
  const { primary, lines, exited, workerPids } = startPrimary({
    NODE_ENV: 'test', LOG_LEVEL: 'info', DATABASE_URL: `postgres://nobody@127.0.0.1:${nowhere}/none`, ADMIN_API_KEY: 'workers-test-admin-key-0123456789', WORKERS: '2', PORT: String(await freePort()),
  }, 'ignore'); // each worker's stack trace
  t.teardown(() => {
    for (const pid of [primary.pid!, ...workerPids('worker started')]) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  const { code } = await exited;
  t.equal(code, 1, 'exit 1');
  t.ok(lines.some((l) => l.msg === 'workers keep dying at start-up: giving up'), 'the primary said why');
  const started = workerPids('worker started');
  t.ok(started.length >= 5, `replaced several times before giving up (${started.length} workers in all)`);
  t.ok(workerPids('worker died unexpectedly').length >= 5, 'each death logged');
  for (const pid of started) t.notOk(alive(pid), `no worker left: ${pid}`);
});
