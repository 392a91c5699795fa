// Load during bulk batches (part of `npm test`): the service runs as a child process on a real
// PostgreSQL with load shedding on (MAX_EVENT_LOOP_DELAY_MS=1000, the default). For a fixed LOAD_MS
// (default 12 s), NDJSON batches of BATCH_LINES addressChanged lines are posted back to back (how many
// lines that is depends on the machine: a fixed line count lasted from 2 to 12 s here), while a second
// client loops over GET /health/live and GET /v1/certificates/{serial}. Every /health/live must be
// 200, with no long silence from the first batch's start to the last one's end; status reads must be
// answered (200, or 503 problem+json with Retry-After if shed, never unanswered) and at least some
// 200; every batch must be applied whole.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import t from 'tap';
import { ADMIN_KEY } from '../support/app.js';
import { postBatch, signatureHolders, startService } from '../support/service-process.js';
import { createTestDatabase } from '../support/database.js';
import { freePort } from '../support/postgres-server.js';

const LOAD_MS = Number(process.env.LOAD_MS ?? 12_000);
const BATCH_LINES = 2500;
const HOLDERS = 10;
const MAX_REQUEST_MS = 10_000;
/** Longest time without a /health/live answer while the batches run. */
const MAX_GAP_MS = 3000;
const auth = { authorization: `Bearer ${ADMIN_KEY}` };

t.test(`/health/live and status reads keep answering during ${LOAD_MS / 1000} s of bulk batches`, async (t) => {
  const db = await createTestDatabase();
  const dir = mkdtempSync(path.join(tmpdir(), 'jpki-load-'));
  t.teardown(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  });
  const env = { DATABASE_URL: db.url, ADMIN_API_KEY: ADMIN_KEY, ENFORCE_OPENING_HOURS: 'false', LOG_LEVEL: 'warn', NODE_ENV: 'development', MAX_EVENT_LOOP_DELAY_MS: '1000', RATE_LIMIT_MAX: '0' };

  // Residents with signature certificates, made in-process (same database, same CAs).
  const holders = await signatureHolders(env, HOLDERS, 'L');

  // A batch: address changes only, cycling over the holders (each one's certificate is revoked by its first move).
  const batchFile = (b: number) => {
    const lines: string[] = [];
    for (let j = 0; j < BATCH_LINES; j++) {
      lines.push(JSON.stringify({ eventId: `l-move-${b}-${j}`, residentCode: holders[j % HOLDERS]!.code, type: 'addressChanged', effectiveAt: '2025-06-01T00:00:00Z', data: { address: `東京都新宿区新${b}-${j}` } }));
    }
    const file = path.join(dir, `batch-${b}.ndjson`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  };

  const port = await freePort();
  const service = await startService({ ...env, PORT: String(port) }, port, 1800);
  t.teardown(() => {
    service.child.kill('SIGTERM');
  });

  const counts = { live200: 0, status200: 0, status503: 0, bad: [] as string[] };
  const liveAt: number[] = [];
  const latencies: number[] = [];
  let done = false;
  const timed = async (url: string, headers: Record<string, string>) => {
    const started = performance.now();
    try {
      const res = await fetch(`http://127.0.0.1:${port}${url}`, { headers, signal: AbortSignal.timeout(MAX_REQUEST_MS) });
      const body = await res.text();
      latencies.push(performance.now() - started);
      return { status: res.status, type: res.headers.get('content-type') ?? '', retryAfter: res.headers.get('retry-after'), body };
    } catch (err) {
      latencies.push(performance.now() - started);
      return { status: 0, type: '', retryAfter: null, body: String(err) };
    }
  };
  const reader = (async () => {
    for (let i = 0; !done; i++) {
      const live = await timed('/health/live', {});
      if (live.status === 200) {
        counts.live200++;
        liveAt.push(performance.now());
      } else counts.bad.push(`/health/live ${live.status} ${live.body.slice(0, 200)}`);
      const serial = holders[i % HOLDERS]!.serial;
      const st = await timed(`/v1/certificates/${serial}`, auth);
      if (st.status === 200) counts.status200++;
      else if (st.status === 503 && /application\/problem\+json/.test(st.type) && st.retryAfter) counts.status503++;
      else counts.bad.push(`/v1/certificates/${serial} ${st.status} ${st.body.slice(0, 200)}`);
    }
  })();

  const started = performance.now();
  let batches = 0;
  const batchProblems: string[] = [];
  let next = batchFile(0);
  while (performance.now() - started < LOAD_MS) {
    const answers = new Map<number, number>();
    const sending = postBatch(port, next, (a) => answers.set(a.line, a.status));
    next = batchFile(batches + 1);
    const outcome = await sending;
    const refused = [...answers.values()].filter((s) => s !== 201).length;
    if (outcome !== 'complete' || answers.size !== BATCH_LINES || refused > 0) batchProblems.push(`batch ${batches}: ${outcome}, ${answers.size} answers, ${refused} not 201`);
    batches++;
  }
  const ended = performance.now();
  done = true;
  await reader;
  const lines = batches * BATCH_LINES;

  t.same(batchProblems, [], `${batches} batches of ${BATCH_LINES} lines, each answer complete, one answer per line, every line applied (201)`);
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const stored = await c.query(`SELECT count(*)::int AS n FROM resident_events WHERE event_id LIKE 'l-move-%'`);
    t.equal(stored.rows[0].n, lines, 'every event stored');
    const revoked = await c.query(`SELECT count(*)::int AS n FROM certificates WHERE serial = ANY($1) AND status = 'revoked'`, [holders.map((h) => h.serial)]);
    t.equal(revoked.rows[0].n, HOLDERS, 'each holder’s signature certificate revoked by the first move');
  } finally {
    await c.end();
  }

  t.same(counts.bad, [], 'every concurrent request answered: /health/live 200, a status read 200 or 503 problem+json with Retry-After');
  t.ok(counts.status200 > 0, `status reads answered 200 (${counts.status200}; ${counts.status503} shed)`);
  // "Throughout": /health/live answered from the start of the first batch to the end of the last, never a long silence.
  const marks = [started, ...liveAt.filter((x) => x >= started && x <= ended), ended];
  const gaps = marks.slice(1).map((x, i) => x - marks[i]!);
  const longestGap = Math.max(...gaps);
  t.ok(longestGap < MAX_GAP_MS, `/health/live answered all through the batches: longest gap ${Math.round(longestGap)} ms (limit ${MAX_GAP_MS})`);
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0);
  t.ok(sorted.at(-1)! < MAX_REQUEST_MS, 'no concurrent request near the 10 s abort');
  t.comment(`${batches} batches, ${lines} lines in ${Math.round(ended - started)} ms (${Math.round(lines / ((ended - started) / 1000))} lines/s); ${latencies.length} concurrent requests: /health/live 200 ×${counts.live200}, status 200 ×${counts.status200}, 503 ×${counts.status503}, other ×${counts.bad.length}; latency p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${pct(1)} ms; longest /health/live gap ${Math.round(longestGap)} ms`);
});
