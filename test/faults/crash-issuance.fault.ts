// Crash during issuance and revocation (npm run test:faults): the service runs as a child process,
// receives many concurrent issuance and revocation requests (each with its own Idempotency-Key), and
// is killed with SIGKILL while they are in flight. After a restart no half-done use case may be
// visible (a certificate without its audit row or stored OCSP answer, a revocation without its
// history row, OCSP answer or pending CRL update), the audit chain must verify, and retrying every
// request with its key must complete each exactly once.
import pg from 'pg';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_KEY } from '../support/app.js';
import { runLogStream } from '../support/run-log.js';
import { jstToday, startService } from '../support/service-process.js';
import { createTestDatabase } from '../support/database.js';
import { freePort } from '../support/postgres-server.js';

/** Residents whose cards get both certificates during the crash: 2 issuance requests each. */
const ISSUE_RESIDENTS = 30;
/** Certificates issued beforehand and revoked during the crash. */
const REVOKE = 30;
const auth = { authorization: `Bearer ${ADMIN_KEY}` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Call {
  key: string;
  url: string;
  body: object;
  /** issuance: the card and kind it must end up holding exactly one certificate of */
  cardId?: string;
  kind?: string;
  /** revocation: the serial */
  serial?: string;
}

interface Answer {
  status: number; // 0: no answer (the process died)
  replayed: boolean;
  body: any;
}

/** A retry as a client would make it: again after a 503 (refused, nothing done). */
async function retry(port: number, c: Call): Promise<Answer & { refusals: number }> {
  for (let refusals = 0; ; refusals++) {
    const a = await send(port, c);
    if (a.status !== 503 || refusals >= 20) return { ...a, refusals };
    await sleep(1000);
  }
}

async function send(port: number, c: Call): Promise<Answer> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${c.url}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': c.key },
      body: JSON.stringify(c.body),
      signal: AbortSignal.timeout(300_000),
    });
    const text = await r.text();
    return { status: r.status, replayed: r.headers.get('idempotent-replayed') === 'true', body: text ? JSON.parse(text) : null };
  } catch {
    return { status: 0, replayed: false, body: null };
  }
}

t.test(`SIGKILL during ${ISSUE_RESIDENTS * 2} issuances and ${REVOKE} revocations, restart: nothing half-done, retries complete each once`, async (t) => {
  const db = await createTestDatabase();
  t.teardown(() => db.drop());
  // Each issuance makes an RSA key inside its transaction, so 90 at once queue for the 10 pooled
  // connections longer than the default 5 s connect timeout (DB_STATEMENT_TIMEOUT_MS) on a loaded
  // machine and are refused with 503: a generous timeout keeps this test about the crash.
  const env = {
    DATABASE_URL: db.url, ADMIN_API_KEY: ADMIN_KEY, ENFORCE_OPENING_HOURS: 'false', LOG_LEVEL: 'warn', NODE_ENV: 'development', MAX_EVENT_LOOP_DELAY_MS: '0', RATE_LIMIT_MAX: '0',
    DB_STATEMENT_TIMEOUT_MS: '60000',
  };

  // Residents, cards and the certificates to revoke, made in-process (same database, same CAs).
  const today = jstToday();
  const nowIso = new Date().toISOString();
  const app = await buildApp(loadConfig({ ...env, NODE_ENV: 'test', LOG_LEVEL: 'warn' }), { logStream: runLogStream('app') });
  await app.ready();
  const req = (url: string, payload: object) => app.inject({ method: 'POST', url, payload, headers: auth }).then((r) => {
    if (r.statusCode !== 201) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
    return r.json();
  });
  const card = async (code: string) => {
    await req('/v1/resident-events', { eventId: `x-reg-${code}`, residentCode: code, type: 'registered', effectiveAt: '2020-01-01T00:00:00Z', data: { name: `落下 ${code}`, address: `東京都新宿区${code}`, dateOfBirth: '1980-01-01', sex: 'female' } });
    return (await req(`/v1/residents/${code}/cards`, { officeId: 'main', receivedAt: nowIso, issuedOn: today })).card.cardId as string;
  };
  const calls: Call[] = [];
  for (let i = 0; i < ISSUE_RESIDENTS; i++) {
    const cardId = await card(`XI${i}`);
    for (const kind of ['userAuthentication', 'signature']) {
      calls.push({ key: `issue-${kind}-${i}`, url: `/v1/cards/${cardId}/certificates`, cardId, kind, body: { kind, officeId: 'main', receivedAt: nowIso, applicant: { type: 'self' }, generateKey: true } });
    }
  }
  for (let i = 0; i < REVOKE; i++) {
    const cardId = await card(`XR${i}`);
    const issued = await req(`/v1/cards/${cardId}/certificates`, { kind: 'userAuthentication', officeId: 'main', receivedAt: nowIso, applicant: { type: 'self' }, generateKey: true });
    const serial = issued.certificate.serial as string;
    calls.push({ key: `revoke-${i}`, url: `/v1/certificates/${serial}/revocation`, serial, body: { reason: i % 2 ? 'keyCompromise' : 'holderRequest' } });
  }
  await app.close();
  // Interleave issuances and revocations.
  calls.sort((a, b) => (a.key.split('-').at(-1)! < b.key.split('-').at(-1)! ? -1 : 1));

  const port = await freePort();
  const first = await startService({ ...env, PORT: String(port) }, port, 1800);
  const exited = new Promise((r) => first.child.once('exit', r));
  const killAfter = Math.floor(calls.length / 3);
  let answered = 0;
  const firstAnswers = await Promise.all(calls.map(async (c) => {
    const a = await send(port, c);
    if (a.status !== 0 && ++answered === killAfter) first.child.kill('SIGKILL');
    return a;
  }));
  await exited;
  const before = firstAnswers.filter((a) => a.status !== 0);
  t.comment(`${before.length} of ${calls.length} answered before the SIGKILL, ${calls.length - before.length} cut off`);
  t.ok(before.length >= killAfter && before.length < calls.length, 'killed with requests in flight');
  const refusedBefore = before.filter((a) => a.status === 503).length;
  t.same(before.filter((a) => a.status !== 201 && a.status !== 503), [], `every answer before the crash: 201 or 503 (${refusedBefore} × 503)`);

  const second = await startService({ ...env, PORT: String(port) }, port, 1800);
  t.teardown(() => {
    second.child.kill('SIGTERM');
  });
  const get = async (url: string) => (await fetch(`http://127.0.0.1:${port}${url}`, { headers: auth })).json() as Promise<any>;

  // Nothing half-done after the restart.
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  t.teardown(() => c.end());
  const rows = async (q: string) => (await c.query(q)).rows;
  const certificates = Number((await rows('SELECT count(*) AS n FROM certificates'))[0].n);
  const revokedAfterCrash = Number((await rows(`SELECT count(*) AS n FROM certificates WHERE status <> 'good'`))[0].n);
  t.comment(`after the crash: ${certificates} certificates (${REVOKE} made beforehand), ${revokedAfterCrash} revoked`);
  t.same(await rows(`SELECT c.serial FROM certificates c WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'certificate.issued' AND a.resource = 'certificates/' || c.serial)`), [], 'every certificate has its certificate.issued audit row');
  t.same(await rows(`SELECT c.serial FROM certificates c WHERE NOT EXISTS (SELECT 1 FROM ocsp_responses o WHERE o.serial = c.serial AND o.status = c.status)`), [], 'every certificate has a stored OCSP answer with its status');
  t.same(await rows(`SELECT c.serial FROM certificates c WHERE NOT EXISTS (SELECT 1 FROM certificate_status_changes s WHERE s.serial = c.serial AND s.status = 'good')`), [], 'every certificate has its first history row');
  t.same(await rows(`SELECT c.serial FROM certificates c WHERE c.status IN ('revoked', 'onHold') AND NOT EXISTS (SELECT 1 FROM certificate_status_changes s WHERE s.serial = c.serial AND s.status = c.status AND s.reason = c.revocation_reason)`), [], 'every revoked certificate has its status change row');
  t.same(await rows(`SELECT c.serial FROM certificates c WHERE c.status = 'revoked' AND c.revocation_reason IN ('cessationOfOperation', 'keyCompromise') AND NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'certificate.revoked' AND a.resource = 'certificates/' || c.serial)`), [], 'every revocation has its certificate.revoked audit row');
  t.same(await rows(`SELECT idempotency_key FROM idempotency_keys WHERE status_code IS NULL`), [], 'no idempotency key claimed without its stored response');
  // OCSP answers parsed, and a CRL that is either current or marked stale (regeneration pending).
  const consistency = await get('/v1/pki/consistency');
  for (const ca of consistency.cas) {
    t.equal(ca.differences.ocsp, 0, `${ca.ca}: every stored OCSP answer says what the database says`);
    t.ok(ca.differences.crl === 0 || ca.crlStale, `${ca.ca}: CRL current, or its regeneration pending (${ca.differences.crl} differences, stale ${ca.crlStale})`);
  }
  const verification = await get('/v1/audit-events/verification');
  t.equal(verification.ok, true, `audit chain verifies (${verification.checked} rows)`);

  // Retry every request with its key: each completes once; a replay answers the first outcome.
  const retries = await Promise.all(calls.map((call) => retry(port, call)));
  t.same(retries.filter((a) => a.status !== 201), [], 'every retry: 201');
  const refusedRetries = retries.reduce((n, a) => n + a.refusals, 0);
  if (refusedRetries > 0) t.comment(`${refusedRetries} retries were refused with 503 first and tried again`);
  let fresh = 0;
  let replays = 0;
  calls.forEach((call, i) => {
    const a = retries[i]!;
    const was = firstAnswers[i]!;
    if (a.replayed) replays++;
    else fresh++;
    if (was.status === 201) {
      if (!a.replayed) t.fail(`${call.key}: answered before the crash but done again`);
      if (call.cardId && a.body?.certificate?.serial !== was.body.certificate.serial) t.fail(`${call.key}: replay with another serial`);
    }
  });
  const done = before.length - refusedBefore;
  t.comment(`retries: ${fresh} done now, ${replays} replayed (${done} answered 201 before the crash; the rest committed unanswered)`);
  t.ok(replays >= done, 'at least every request answered 201 replayed');

  const again = await Promise.all(calls.map((call) => retry(port, call)));
  t.same(again.filter((a) => a.status !== 201 || !a.replayed), [], 'a second retry replays every request');
  const serialOf = new Map<string, string>();
  calls.forEach((call, i) => {
    if (call.cardId && again[i]!.body.certificate.serial !== retries[i]!.body.certificate.serial) t.fail(`${call.key}: a second replay with another serial`);
    if (call.cardId) serialOf.set(`${call.cardId} ${call.kind}`, retries[i]!.body.certificate.serial);
  });
  const issuedCards = calls.filter((x) => x.cardId).map((x) => x.cardId!);
  const held = await c.query(`SELECT card_id, kind, array_agg(serial) AS serials FROM certificates WHERE card_id = ANY($1) GROUP BY card_id, kind`, [issuedCards]);
  t.equal(held.rowCount, ISSUE_RESIDENTS * 2, 'each card holds both kinds');
  t.same(held.rows.filter((r) => r.serials.length !== 1 || r.serials[0] !== serialOf.get(`${r.card_id} ${r.kind}`)), [], 'one certificate per key: the one every answer names');
  const revocations = await c.query(`SELECT serial, count(*)::int AS n FROM certificate_status_changes WHERE status = 'revoked' AND serial = ANY($1) GROUP BY serial`, [calls.filter((x) => x.serial).map((x) => x.serial!)]);
  t.equal(revocations.rowCount, REVOKE, 'every certificate asked for is revoked');
  t.same(revocations.rows.filter((r) => r.n !== 1), [], 'each exactly once');
  t.equal(Number((await rows(`SELECT count(*) AS n FROM audit_log WHERE action = 'certificate.issued'`))[0].n), REVOKE + ISSUE_RESIDENTS * 2, 'one issuance audit row per certificate');

  // Background CRL/OCSP work resumed in the restarted process: the CRLs catch up without being asked.
  let report: any;
  for (let i = 0; i < 120; i++) {
    report = await get('/v1/pki/consistency');
    if (report.consistent && report.cas.every((x: any) => !x.crlStale)) break;
    await sleep(500);
  }
  t.equal(report.consistent, true, `CRLs and OCSP answers match the database, regenerated in the background: ${JSON.stringify(report.cas.map((x: any) => [x.ca, x.differences, x.crlStale]))}`);
  t.equal(report.cas.find((x: any) => x.ca === 'userAuthentication').revokedOrOnHold, REVOKE, 'the user-authentication CA lists exactly the revoked certificates');
  t.equal((await get('/v1/audit-events/verification')).ok, true, 'audit chain verifies after the retries');
});
