// Crash test (npm run test:faults; too slow for `npm test` on a loaded 2-core machine): the service runs
// as a child process, receives a large NDJSON batch, is killed with SIGKILL midway and restarted.
// Before the replay, nothing may be half-done: the events stored are exactly the lines of the chunks
// committed before the kill (a prefix of the batch, whole chunks of 250), each with its audit row and
// its effect (residents, addresses, revocations), every revoked certificate's OCSP answer already
// says so and its CRL is either current or marked stale. Then the whole batch is replayed: every event
// applied exactly once; after the background work has had its time, the CRL/OCSP consistency check
// (without ?regenerate) is clean, so a revocation that never marked its CRL stale would be caught;
// the audit chain verifies. FAULT_BATCH_LINES sets the size (default 100,000).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import t from 'tap';
import { ADMIN_KEY } from '../support/app.js';
import { postBatch, signatureHolders, startService } from '../support/service-process.js';
import { createTestDatabase } from '../support/database.js';
import { freePort } from '../support/postgres-server.js';

const LINES = Number(process.env.FAULT_BATCH_LINES ?? 100_000);
const HOLDERS = 20;
/** Lines per transaction of a batch (src/services/resident-batches.ts; the route's documentation). */
const CHUNK = 250;
const auth = { authorization: `Bearer ${ADMIN_KEY}` };

async function consistency(port: number): Promise<any> {
  return (await fetch(`http://127.0.0.1:${port}/v1/pki/consistency`, { headers: auth })).json();
}

t.test(`SIGKILL in the middle of a ${LINES}-line batch, restart, replay: every event exactly once, CRL and OCSP consistent`, async (t) => {
  const db = await createTestDatabase();
  const dir = mkdtempSync(path.join(tmpdir(), 'jpki-crash-'));
  t.teardown(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  });
  const env = { DATABASE_URL: db.url, ADMIN_API_KEY: ADMIN_KEY, ENFORCE_OPENING_HOURS: 'false', LOG_LEVEL: 'info', NODE_ENV: 'development', MAX_EVENT_LOOP_DELAY_MS: '0', RATE_LIMIT_MAX: '0', BATCH_PROGRESS_LOG_MS: '200' };

  // Holders of signature certificates, made through the service in-process (same database, same CAs).
  const holders = await signatureHolders(env, HOLDERS, 'K');

  // The batch: half registrations, half address changes of the residents just registered (and of the holders, spread out).
  const at = '2025-06-01T00:00:00Z';
  const lines: string[] = [];
  const lastAddress = new Map<string, string>();
  const half = Math.floor(LINES / 2);
  for (let i = 0; i < half; i++) {
    lines.push(JSON.stringify({ eventId: `c-reg-${i}`, residentCode: `C${i}`, type: 'registered', effectiveAt: at, data: { name: `一括 ${i}`, address: `東京都新宿区旧${i}`, dateOfBirth: '1990-01-01', sex: 'female' } }));
  }
  const holderEvery = Math.floor((LINES - half) / HOLDERS);
  for (let j = 0; lines.length < LINES; j++) {
    const holder = j % holderEvery === 0 ? holders[j / holderEvery] : undefined;
    const code = holder ? holder.code : `C${j % half}`;
    const address = `東京都新宿区新${j}`;
    lastAddress.set(code, address);
    lines.push(JSON.stringify({ eventId: `c-move-${j}`, residentCode: code, type: 'addressChanged', effectiveAt: at, data: { address } }));
  }
  const file = path.join(dir, 'batch.ndjson');
  writeFileSync(file, `${lines.join('\n')}\n`);

  const port = await freePort();
  const first = await startService({ ...env, PORT: String(port) }, port, 1200);
  const firstAnswers = new Map<number, number>();
  const killAt = Math.floor(LINES * 0.3);
  const exited = new Promise((r) => first.child.once('exit', r));
  const outcome = await postBatch(port, file, (a) => {
    firstAnswers.set(a.line, a.status);
    if (firstAnswers.size === killAt) first.child.kill('SIGKILL');
  });
  await exited;
  t.equal(outcome, 'aborted', 'the answer was cut by the crash');
  t.ok(firstAnswers.size >= killAt && firstAnswers.size < LINES, `${firstAnswers.size} lines answered before the crash`);
  t.ok([...firstAnswers.values()].every((s) => s === 201));
  t.match(first.log(), /resident event batch progress/, 'progress was logged');

  const second = await startService({ ...env, PORT: String(port) }, port, 1200);
  t.teardown(() => {
    second.child.kill('SIGTERM');
  });

  // Between the restart and the replay: exactly whole chunks committed, each line with all its effects.
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  t.teardown(() => c.end());
  const one = async (q: string, params: unknown[] = []) => Number((await c.query(q, params)).rows[0].n);
  const storedIds = new Set((await c.query<{ event_id: string }>(`SELECT event_id FROM resident_events WHERE event_id LIKE 'c-%'`)).rows.map((r) => r.event_id));
  const parsed = lines.map((l) => JSON.parse(l) as { eventId: string; residentCode: string; type: string; data: { address: string } });
  const committed = storedIds.size;
  t.same(parsed.slice(0, committed).filter((e) => !storedIds.has(e.eventId)).map((e) => e.eventId), [], `the ${committed} stored events are the batch's first ${committed} lines`);
  t.ok(committed % CHUNK === 0 && committed >= firstAnswers.size, `whole chunks of ${CHUNK} (${committed} stored, ${firstAnswers.size} answered before the kill)`);
  t.equal(await one(`SELECT count(*) AS n FROM audit_log WHERE detail->>'eventId' LIKE 'c-%'`), committed, 'one audit row per stored event, none for the others');
  const addressAfter = new Map<string, string>();
  for (const e of parsed.slice(0, committed)) addressAfter.set(e.residentCode, e.data.address);
  t.equal(await one(`SELECT count(*) AS n FROM residents WHERE resident_code LIKE 'C%'`), Math.min(committed, half), 'a resident per stored registration');
  const addresses = await c.query<{ resident_code: string; address: string }>(`SELECT resident_code, address FROM residents WHERE resident_code = ANY($1)`, [[...addressAfter.keys()]]);
  t.same(addresses.rows.filter((r) => addressAfter.get(r.resident_code) !== r.address).map((r) => r.resident_code), [], 'every resident has the address of its last stored event');
  const movedHolders = holders.filter((h) => addressAfter.has(h.code));
  t.equal(await one(`SELECT count(*) AS n FROM certificates WHERE serial = ANY($1) AND status = 'revoked'`, [holders.map((h) => h.serial)]), movedHolders.length, `the ${movedHolders.length} holders whose move was stored are revoked, no other`);
  const afterRestart = await consistency(port);
  for (const ca of afterRestart.cas) {
    t.equal(ca.differences.ocsp, 0, `${ca.ca}: every OCSP answer already says what the database says`);
    t.ok(ca.differences.crl === 0 || ca.crlStale, `${ca.ca}: the CRL is current or marked stale (${ca.differences.crl} differences, stale ${ca.crlStale})`);
  }
  const replay = new Map<number, any>();
  t.equal(await postBatch(port, file, (a) => replay.set(a.line, a)), 'complete');
  t.equal(replay.size, LINES, 'one answer per line');
  let applied = 0;
  let replayed = 0;
  for (let line = 1; line <= LINES; line++) {
    const a = replay.get(line);
    if (a?.status === 201) {
      applied++;
      if (firstAnswers.has(line)) t.fail(`line ${line} applied twice`);
    } else if (a?.status === 200) replayed++;
    else t.fail(`line ${line}: ${JSON.stringify(a)}`);
  }
  t.ok(replayed >= firstAnswers.size, `replayed ${replayed} (≥ the ${firstAnswers.size} answered before the crash: the chunk in flight may have committed unanswered)`);
  t.equal(applied + replayed, LINES);

  t.equal(await one(`SELECT count(*) AS n FROM resident_events WHERE event_id LIKE 'c-%'`), LINES, 'every event stored once');
  t.equal(await one(`SELECT count(*) AS n FROM audit_log WHERE detail->>'eventId' LIKE 'c-%'`), LINES, 'one audit row per event');
  t.equal(await one(`SELECT count(*) AS n FROM residents WHERE resident_code LIKE 'C%'`), half);
  const wrong = await c.query(`SELECT resident_code, address FROM residents WHERE resident_code = ANY($1)`, [[...lastAddress.keys()]]);
  t.ok(wrong.rows.every((r) => lastAddress.get(r.resident_code) === r.address), 'every resident has the address of their last event');
  t.equal(await one(`SELECT count(*) AS n FROM certificate_status_changes WHERE status = 'revoked' AND serial = ANY($1)`, [holders.map((h) => h.serial)]), HOLDERS, 'each holder’s certificate revoked exactly once');

  // Nothing regenerated on request: the restarted process's background work must bring the CRLs up to
  // date by itself (a revocation that never marked its CRL stale would stay out of them).
  let report = await consistency(port);
  const waitStarted = performance.now();
  while (!report.consistent && performance.now() - waitStarted < 60_000) {
    await new Promise((r) => setTimeout(r, 1000));
    report = await consistency(port);
  }
  t.comment(`CRLs and OCSP consistent ${Math.round(performance.now() - waitStarted)} ms after the replay, without ?regenerate`);
  t.equal(report.consistent, true, JSON.stringify(report.cas.map((x: any) => [x.ca, x.differences, x.crlStale])));
  t.equal(report.regenerated, false);
  t.equal(report.cas.find((x: any) => x.ca === 'signature').revokedOrOnHold, HOLDERS);
  const chain = await (await fetch(`http://127.0.0.1:${port}/v1/audit-events/verification`, { headers: auth })).json() as any;
  t.match(chain, { ok: true, firstBroken: null }, `the audit chain verifies (${chain.checked} rows)`);
});
