// Load during a bulk batch (npm run test:faults): the service runs as a child process on a real
// PostgreSQL with load shedding on (MAX_EVENT_LOOP_DELAY_MS=1000, the default); while a batch of
// LOAD_BATCH_LINES (default 4,000) addressChanged lines is applied, a second client loops over
// GET /health/live and GET /v1/certificates/{serial}. Every one of those requests must be answered:
// /health/live 200, a status read 200 or 503 problem+json with Retry-After (shed), none slower than 10 s.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_KEY } from '../support/app.js';
import { jstToday, postBatch, startService } from '../support/service-process.js';
import { createTestDatabase } from '../support/database.js';
import { freePort } from '../support/postgres-server.js';

const LINES = Number(process.env.LOAD_BATCH_LINES ?? 4000);
const HOLDERS = 10;
const MAX_REQUEST_MS = 10_000;
const auth = { authorization: `Bearer ${ADMIN_KEY}` };

t.test(`/health/live and status reads keep answering during a ${LINES}-line batch`, async (t) => {
  const db = await createTestDatabase();
  const dir = mkdtempSync(path.join(tmpdir(), 'jpki-load-'));
  t.teardown(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  });
  const env = { DATABASE_URL: db.url, ADMIN_API_KEY: ADMIN_KEY, ENFORCE_OPENING_HOURS: 'false', LOG_LEVEL: 'warn', NODE_ENV: 'development', MAX_EVENT_LOOP_DELAY_MS: '1000', RATE_LIMIT_MAX: '0' };

  // Residents with signature certificates, made in-process (same database, same CAs).
  const today = jstToday();
  const nowIso = new Date().toISOString();
  // The set-up is not under test: no load shedding there, however busy the machine.
  const app = await buildApp(loadConfig({ ...env, NODE_ENV: 'test', MAX_EVENT_LOOP_DELAY_MS: '0' }));
  await app.ready();
  const holders: { code: string; serial: string }[] = [];
  try {
    for (let i = 0; i < HOLDERS; i++) {
      const code = `L${i}`;
      const req = (url: string, payload: object) => app.inject({ method: 'POST', url, payload, headers: auth }).then((r) => {
        if (r.statusCode !== 201) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
        return r.json();
      });
      await req('/v1/resident-events', { eventId: `l-reg-${i}`, residentCode: code, type: 'registered', effectiveAt: '2020-01-01T00:00:00Z', data: { name: `保有 ${i}`, address: `東京都新宿区${i}`, dateOfBirth: '1980-01-01', sex: 'male' } });
      const { card } = await req(`/v1/residents/${code}/cards`, { officeId: 'main', receivedAt: nowIso, issuedOn: today });
      const sig = await req(`/v1/cards/${card.cardId}/certificates`, { kind: 'signature', officeId: 'main', receivedAt: nowIso, applicant: { type: 'self' }, generateKey: true });
      holders.push({ code, serial: sig.certificate.serial });
    }
  } finally {
    await app.close();
  }

  // The batch: address changes only, cycling over the holders (each one's certificate is revoked by its first move).
  const at = '2025-06-01T00:00:00Z';
  const lines: string[] = [];
  for (let j = 0; j < LINES; j++) {
    lines.push(JSON.stringify({ eventId: `l-move-${j}`, residentCode: holders[j % HOLDERS]!.code, type: 'addressChanged', effectiveAt: at, data: { address: `東京都新宿区新${j}` } }));
  }
  const file = path.join(dir, 'batch.ndjson');
  writeFileSync(file, `${lines.join('\n')}\n`);

  const port = await freePort();
  const service = await startService({ ...env, PORT: String(port) }, port, 1200);
  t.teardown(() => {
    service.child.kill('SIGTERM');
  });

  const counts = { live200: 0, status200: 0, status503: 0, bad: [] as string[] };
  let maxMs = 0;
  let done = false;
  const timed = async (url: string, headers: Record<string, string>) => {
    const started = Date.now();
    try {
      const res = await fetch(`http://127.0.0.1:${port}${url}`, { headers, signal: AbortSignal.timeout(MAX_REQUEST_MS) });
      const body = await res.text();
      maxMs = Math.max(maxMs, Date.now() - started);
      return { status: res.status, type: res.headers.get('content-type') ?? '', retryAfter: res.headers.get('retry-after'), body };
    } catch (err) {
      maxMs = Math.max(maxMs, Date.now() - started);
      return { status: 0, type: '', retryAfter: null, body: String(err) };
    }
  };
  const reader = (async () => {
    for (let i = 0; !done; i++) {
      const live = await timed('/health/live', {});
      if (live.status === 200) counts.live200++;
      else counts.bad.push(`/health/live ${live.status} ${live.body.slice(0, 200)}`);
      const serial = holders[i % HOLDERS]!.serial;
      const st = await timed(`/v1/certificates/${serial}`, auth);
      if (st.status === 200) counts.status200++;
      else if (st.status === 503 && /application\/problem\+json/.test(st.type) && st.retryAfter) counts.status503++;
      else counts.bad.push(`/v1/certificates/${serial} ${st.status} ${st.body.slice(0, 200)}`);
    }
  })();

  const started = Date.now();
  const answers = new Map<number, number>();
  const outcome = await postBatch(port, file, (a) => answers.set(a.line, a.status));
  const batchMs = Date.now() - started;
  done = true;
  await reader;

  t.equal(outcome, 'complete', 'the batch answer ended normally');
  t.equal(answers.size, LINES, 'one answer per line');
  t.ok([...answers.values()].every((s) => s === 201), 'every line applied');
  const total = counts.live200 + counts.status200 + counts.status503 + counts.bad.length;
  t.same(counts.bad, [], 'every concurrent request answered as expected');
  t.ok(counts.live200 > 0 && counts.status200 + counts.status503 > 0, 'requests were made during the batch');
  t.ok(maxMs < MAX_REQUEST_MS, `slowest concurrent request ${maxMs} ms`);
  t.comment(`batch ${LINES} lines in ${batchMs} ms; ${total} concurrent requests: /health/live 200 ×${counts.live200}, status 200 ×${counts.status200}, 503 ×${counts.status503}, other ×${counts.bad.length}; slowest ${maxMs} ms`);
});
