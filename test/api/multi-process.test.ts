import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { createTestDatabase } from '../support/database.js';
import { within } from '../support/poll.js';
import { freePort } from '../support/postgres-server.js';
import { teeToRunLog } from '../support/run-log.js';
import { TSX_NODE_ARGS } from '../support/service-process.js';

/**
 * Two service processes on one database, as N replicas behind a load balancer run: a change made
 * through one is seen by the other within a second — a revocation over the status API and over
 * OCSP (whose answers both processes keep in memory), and a revoked API key (which the other
 * process had cached) refused. The revoking process itself answers `revoked` at once.
 */
const execFileAsync = promisify(execFile);
const ADMIN_KEY = 'multi-process-admin-key-0123456789';
const JST = (s: string) => `${s}+09:00`;
const root = new URL('../..', import.meta.url).pathname;

async function start(t: { teardown(fn: () => unknown): void }, env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [...TSX_NODE_ARGS, 'src/server.ts'], {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  teeToRunLog(child, 'service');
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${base}/health/ready`)).status === 200) return base;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('server did not become ready');
}

async function call(base: string, method: string, url: string, body?: unknown, key = ADMIN_KEY): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

async function ok(base: string, method: string, url: string, body?: unknown, status = 200): Promise<any> {
  const r = await call(base, method, url, body);
  if (r.status !== status) throw new Error(`${method} ${url}: expected ${status}, got ${r.status}: ${JSON.stringify(r.json)}`);
  return r.json;
}

t.test('two processes on one database: a revocation and a key revocation through one are seen by the other within 1 s', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const env = { NODE_ENV: 'test', LOG_LEVEL: 'warn', DATABASE_URL: database.url, ADMIN_API_KEY: ADMIN_KEY, CLOCK_CONTROL: 'enabled', MAX_EVENT_LOOP_DELAY_MS: '0', RATE_LIMIT_MAX: '0' };
  const a = await start(t, env);
  const b = await start(t, env);
  for (const base of [a, b]) await ok(base, 'PUT', '/v1/clock', { now: JST('2026-01-15T10:00:00') });

  await ok(a, 'POST', '/v1/resident-events', { eventId: 'reg-MP1', residentCode: 'MP1', type: 'registered', effectiveAt: JST('2000-01-01T00:00:00'), data: { name: '新宿 花子', address: '東京都新宿区西新宿2-8-1', dateOfBirth: '1990-05-20', sex: 'female' } }, 201);
  const { card } = await ok(a, 'POST', '/v1/residents/MP1/cards', { officeId: 'main', receivedAt: JST('2026-01-15T09:30:00'), issuedOn: '2026-01-15' }, 201);
  const issued = await ok(a, 'POST', `/v1/cards/${card.cardId}/certificates`, { kind: 'signature', officeId: 'main', receivedAt: JST('2026-01-15T10:00:00'), applicant: { type: 'self' }, generateKey: true }, 201);
  const serial: string = issued.certificate.serial;
  const reader = await ok(a, 'POST', '/v1/api-keys', { name: 'status reader', scopes: ['status:read'] }, 201);

  // B answers (and caches the reader's key) before the changes.
  const statusB = () => call(b, 'GET', `/v1/certificates/${serial}`, undefined, reader.secret);
  t.equal((await statusB()).json.status, 'good', 'good through B before');
  t.equal((await statusB()).status, 200, 'the reader key works on B (and is cached there now)');

  const dir = mkdtempSync(path.join(tmpdir(), 'jpki-multi-process-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const caPem = await (await fetch(`${b}/pki/signature/ca.crt`, { headers: { accept: 'application/x-pem-file' } })).text();
  writeFileSync(path.join(dir, 'ca.pem'), caPem);
  writeFileSync(path.join(dir, 'cert.pem'), issued.certificate.pem);
  await execFileAsync('/usr/bin/openssl', ['ocsp', '-issuer', 'ca.pem', '-cert', 'cert.pem', '-no_nonce', '-reqout', 'req.der'], { cwd: dir });
  const request = readFileSync(path.join(dir, 'req.der'));
  const ocspStatus = async (base: string) => {
    const res = await fetch(`${base}/pki/signature/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: request });
    const file = `resp-${base === a ? 'a' : 'b'}.der`;
    writeFileSync(path.join(dir, file), Buffer.from(await res.arrayBuffer()));
    const { stdout } = await execFileAsync('/usr/bin/openssl', ['ocsp', '-respin', file, '-resp_text', '-noverify'], { cwd: dir });
    return /Cert Status: (\w+)/.exec(stdout)?.[1];
  };
  const ocspStatusB = () => ocspStatus(b);
  // Both processes answer (and keep the answer in memory: src/services/ocsp-cache.ts) before the change.
  for (let i = 0; i < 3; i++) {
    t.equal(await ocspStatusB(), 'good', 'OCSP through B says good before');
    t.equal(await ocspStatus(a), 'good', 'OCSP through A says good before');
  }

  await ok(a, 'POST', `/v1/certificates/${serial}/revocation`, { reason: 'holderRequest' }, 201);
  t.equal(await ocspStatus(a), 'revoked', 'OCSP through A, which revoked it, says revoked on the very next request (never its cached good)');
  const statusMs = await within(1000, async () => (await statusB()).json?.status === 'revoked');
  t.ok(statusMs >= 0, `the status API of B says revoked within 1 s (${Math.round(statusMs)} ms)`);
  const ocspMs = await within(1000, async () => (await ocspStatusB()) === 'revoked');
  t.ok(ocspMs >= 0, `OCSP through B says revoked within 1 s (${Math.round(ocspMs)} ms)`);
  for (let i = 0; i < 3; i++) t.equal(await ocspStatusB(), 'revoked', 'and keeps saying so');

  await ok(a, 'DELETE', `/v1/api-keys/${reader.keyId}`, undefined, 204);
  const keyMs = await within(1000, async () => (await statusB()).status === 401);
  t.ok(keyMs >= 0, `B refuses the key revoked through A within 1 s (${Math.round(keyMs)} ms)`);
});
