import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { freePort } from '../support/postgres-server.js';
import { teeToRunLog } from '../support/run-log.js';

/**
 * The default set-up, as `npm start` runs it (scripts/start.mjs: the JavaScript build of src/, made
 * when missing or stale): embedded PGlite in DATA_DIR, data kept across restarts.
 */
const dataDir = mkdtempSync(path.join(tmpdir(), 'jpki-ward-smoke-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));

const FEES_2099 = {
  cardIssuance: [],
  cardReissue: [{ item: 'card', amount: 1200 }, { item: 'certificates', amount: 300 }],
  certificateIssuance: [],
  certificateRenewal: [],
  certificateNewAfterExpiry: [],
  certificateReissue: [{ item: 'certificates', amount: 300 }],
  pinReset: [],
  pinChange: [],
};

async function start(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', ADMIN_API_KEY: '', NODE_ENV: 'development' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  teeToRunLog(child, 'service');
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error('server did not become ready');
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

t.test('npm start on PGlite: ready, docs, /openapi.json, a 409 problem; a key and a dated fee schedule made before a restart read back after it', async (t) => {
  const port = await freePort();
  let server = await start(port);
  const keyFile = path.join(dataDir, 'admin-api-key');
  t.equal(statSync(keyFile).mode & 0o777, 0o600, 'the generated admin key file is private');
  const admin = readFileSync(keyFile, 'utf8').trim();
  const auth = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
  t.equal((await fetch(`http://127.0.0.1:${port}/docs/`)).status, 200, 'Swagger UI');
  // Its assets are files next to its package (the bundle gives it its own __dirname: scripts/start.mjs).
  const asset = await fetch(`http://127.0.0.1:${port}/docs/static/swagger-ui.css`);
  t.equal(asset.status, 200, 'Swagger UI assets');
  // Read to the end: a response still streaming keeps its connection busy, and close waits for it.
  await asset.arrayBuffer();
  const created = await fetch(`http://127.0.0.1:${port}/v1/api-keys`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'kept', scopes: ['status:read'] }) });
  t.equal(created.status, 201);
  const { keyId } = (await created.json()) as { keyId: string };

  const spec = await fetch(`http://127.0.0.1:${port}/openapi.json`);
  t.equal(spec.status, 200, '/openapi.json');
  const document = (await spec.json()) as { openapi: string; paths: Record<string, unknown> };
  t.equal(document.openapi, '3.1.0');
  t.ok(document.paths['/v1/fees/schedules'], 'the document lists the routes');

  // A dated fee schedule: a `date` column written here and read back after the restart below.
  const schedule = { effectiveFrom: '2099-04-01', fees: FEES_2099 };
  const added = await fetch(`http://127.0.0.1:${port}/v1/fees/schedules`, { method: 'POST', headers: auth, body: JSON.stringify(schedule) });
  t.equal(added.status, 201, 'a fee schedule added');
  // The same date again: found among the schedules read back from PGlite, refused as a 409 problem.
  const again = await fetch(`http://127.0.0.1:${port}/v1/fees/schedules`, { method: 'POST', headers: auth, body: JSON.stringify(schedule) });
  t.equal(again.status, 409);
  t.match(again.headers.get('content-type'), /^application\/problem\+json/);
  t.match(await again.json(), { type: 'urn:jpki-ward:problem:feeScheduleExists', status: 409, title: String, requestId: String });
  t.equal(await stop(server), 0, 'SIGTERM closes gracefully with exit 0');

  server = await start(port);
  t.teardown(() => void stop(server));
  const list = (await (await fetch(`http://127.0.0.1:${port}/v1/api-keys`, { headers: auth })).json()) as { items: { keyId: string }[] };
  t.ok(list.items.some((k) => k.keyId === keyId), 'the key survived the restart');

  const schedules = (await (await fetch(`http://127.0.0.1:${port}/v1/fees/schedules`, { headers: auth })).json()) as { items: { effectiveFrom: string }[] };
  t.same(schedules.items.map((s) => s.effectiveFrom), ['2016-01-01', '2099-04-01'], 'date columns read back from PGlite as YYYY-MM-DD');
  const quote = await fetch(`http://127.0.0.1:${port}/v1/fees/quote`, { method: 'POST', headers: auth, body: JSON.stringify({ procedure: 'cardReissue', on: '2099-04-01' }) });
  t.match(await quote.json(), { on: '2099-04-01', scheduleEffectiveFrom: '2099-04-01', total: 1500 }, 'the schedule in force from that day');
});
