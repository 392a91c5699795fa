import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { freePort } from '../support/postgres-server.js';

/**
 * The default set-up, as `npm start` runs it (scripts/start.mjs: the JavaScript build of src/, made
 * when missing or stale): embedded PGlite in DATA_DIR, data kept across restarts.
 */
const dataDir = mkdtempSync(path.join(tmpdir(), 'jpki-ward-smoke-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));

async function start(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', ADMIN_API_KEY: '', NODE_ENV: 'development' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
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

t.test('npm start on PGlite: ready, docs, a key made before a restart is still there', async (t) => {
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
  t.equal(await stop(server), 0, 'SIGTERM closes gracefully with exit 0');

  server = await start(port);
  t.teardown(() => void stop(server));
  const list = (await (await fetch(`http://127.0.0.1:${port}/v1/api-keys`, { headers: auth })).json()) as { items: { keyId: string }[] };
  t.ok(list.items.some((k) => k.keyId === keyId), 'the key survived the restart');
});
