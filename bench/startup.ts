/**
 * Time to ready on first start (a new PGlite database) and on restart, and RSS at idle, for the
 * default `npm start` set-up. Baseline in the same run: a bare Fastify server started the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../test/support/postgres-server.js';
import { writeResult } from './lib/result.js';

const root = new URL('..', import.meta.url).pathname;

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(line?.replace(/\D+/g, '') ?? 0) / 1024);
}

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

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function idleRss(child: ChildProcess): Promise<number> {
  await new Promise((r) => setTimeout(r, 3000));
  return rssMb(child.pid!);
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'jpki-bench-startup-'));
const port = await freePort();
const env = { DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', DATABASE_URL: '', ADMIN_API_KEY: '' };
const url = `http://127.0.0.1:${port}/health/ready`;
const server = ['--import=tsx', 'src/server.ts'];

const first = await timeToReady(server, env, url);
await stop(first.child);
const restart = await timeToReady(server, env, url);
const rss = await idleRss(restart.child);
await stop(restart.child);
rmSync(dataDir, { recursive: true, force: true });

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
  dataset: 'default set-up: embedded PGlite in a fresh DATA_DIR',
  baseline: { label: 'bare Fastify hello-world, same machine, same run', readyMs: baseline.ms, idleRssMb: baselineRss },
  ours: { firstStartReadyMs: first.ms, restartReadyMs: restart.ms, idleRssMb: rss, targets: { restartReadyMs: 2000, idleRssMb: 200 } },
  ratio: Math.round((restart.ms / baseline.ms) * 100) / 100,
  ratioMeaning: 'restart time to ready ÷ bare Fastify time to ready (lower is better)',
});
