// Crash during inquiry transitions (npm run test:faults): the service runs as a child process and
// receives, all at once, openings of inquiry cases (each with its own Idempotency-Key), mailings and
// completing visits (If-Match), and agent issuances that consume completed cases; it is killed with
// SIGKILL while they are in flight. After a restart no half-done transition may be visible (a case
// whose state is not the to-state of its last history row, a version bump without its history or
// audit row, a consumed case without its one certificate, an agent's certificate without a consumed
// case), the audit chain must verify, and retrying every request (the same key, or a fresh ETag when
// the case still allows the action) must complete each exactly once.
import pg from 'pg';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_KEY } from '../support/app.js';
import { runLogStream } from '../support/run-log.js';
import { jstToday, startService } from '../support/service-process.js';
import { createTestDatabase } from '../support/database.js';
import { freePort } from '../support/postgres-server.js';

/** Cases per kind of request fired during the crash: openings, mailings, visits, consuming issuances. */
const PER_KIND = 10;
const auth = { authorization: `Bearer ${ADMIN_KEY}` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const AGENT = { kind: 'voluntary', name: '代理 一郎', identityDocument: 'driversLicence' };
const GOOD_VISIT = { letterComplete: true, bothSidesFilled: true, applicationFormComplete: true, agentIdentityVerified: true, pinVerified: true };

type Kind = 'open' | 'mail' | 'visit' | 'issue';

interface Call {
  kind: Kind;
  url: string;
  body: object;
  /** open, issue: the Idempotency-Key */
  key?: string;
  /** mail, visit: the case and the ETag it was read at; open: the resident */
  inquiryId?: string;
  etag?: string;
  residentCode?: string;
  cardId?: string;
}

interface Answer {
  status: number; // 0: no answer (the process died)
  replayed: boolean;
  etag: string | null;
  body: any;
}

async function send(port: number, c: Call, etag = c.etag): Promise<Answer> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${c.url}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', ...(c.key ? { 'idempotency-key': c.key } : {}), ...(etag ? { 'if-match': etag } : {}) },
      body: JSON.stringify(c.body),
      signal: AbortSignal.timeout(300_000),
    });
    const text = await r.text();
    return { status: r.status, replayed: r.headers.get('idempotent-replayed') === 'true', etag: r.headers.get('etag'), body: text ? JSON.parse(text) : null };
  } catch {
    return { status: 0, replayed: false, etag: null, body: null };
  }
}

t.test(`SIGKILL during ${PER_KIND} inquiry openings, ${PER_KIND} mailings, ${PER_KIND} visits and ${PER_KIND} consuming issuances, restart: nothing half-done, retries complete each once`, async (t) => {
  const db = await createTestDatabase();
  t.teardown(() => db.drop());
  // Opening hours off and the real clock: the adjustable clock (CLOCK_CONTROL) lives in the process
  // and would be lost at the SIGKILL, while every date here is today's.
  const env = {
    DATABASE_URL: db.url, ADMIN_API_KEY: ADMIN_KEY, ENFORCE_OPENING_HOURS: 'false', LOG_LEVEL: 'warn', NODE_ENV: 'development', MAX_EVENT_LOOP_DELAY_MS: '0', RATE_LIMIT_MAX: '0',
    DB_STATEMENT_TIMEOUT_MS: '60000',
  };

  // Residents, cards and cases in their starting states, made in-process over the API (same database).
  const today = jstToday();
  const nowIso = () => new Date().toISOString();
  const app = await buildApp(loadConfig({ ...env, NODE_ENV: 'test', LOG_LEVEL: 'warn' }), { logStream: runLogStream('app') });
  await app.ready();
  const req = async (url: string, payload: object, headers: Record<string, string> = {}) => {
    const r = await app.inject({ method: 'POST', url, payload, headers: { ...auth, ...headers } });
    if (r.statusCode !== 201 && r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
    return { body: r.json(), etag: r.headers.etag as string };
  };
  const card = async (code: string) => {
    await req('/v1/resident-events', { eventId: `x-reg-${code}`, residentCode: code, type: 'registered', effectiveAt: '2020-01-01T00:00:00Z', data: { name: `落下 ${code}`, address: `東京都新宿区${code}`, dateOfBirth: '1980-01-01', sex: 'female' } });
    return (await req(`/v1/residents/${code}/cards`, { officeId: 'main', receivedAt: nowIso(), issuedOn: today })).body.card.cardId as string;
  };
  const openBody = (residentCode: string, path: string) => ({ residentCode, purpose: 'certificateIssuance', path, agent: AGENT, officeId: 'main', openedAt: nowIso() });
  const open = (residentCode: string, path: string) => req('/v1/inquiries', openBody(residentCode, path), { 'idempotency-key': `setup-${residentCode}` });
  const calls: Call[] = [];
  for (let i = 0; i < PER_KIND; i++) {
    // Opened during the crash.
    const o = `QO${i}`;
    await card(o);
    calls.push({ kind: 'open', key: `open-${i}`, url: '/v1/inquiries', residentCode: o, body: openBody(o, 'withoutLetter') });
    // Awaiting mailing, mailed during the crash.
    const m = await open((await card(`QM${i}`), `QM${i}`), 'withoutLetter');
    calls.push({ kind: 'mail', url: `/v1/inquiries/${m.body.inquiryId}/mailings`, inquiryId: m.body.inquiryId, etag: m.etag, body: { mailedOn: today } });
    // Awaiting the visit (the letter came with the notice), completed during the crash.
    const v = await open((await card(`QV${i}`), `QV${i}`), 'withLetter');
    calls.push({ kind: 'visit', url: `/v1/inquiries/${v.body.inquiryId}/visits`, inquiryId: v.body.inquiryId, etag: v.etag, body: { officeId: 'main', visitedAt: nowIso(), ...GOOD_VISIT } });
    // Completed, consumed by the agent's issuance during the crash.
    const cardId = await card(`QC${i}`);
    const c = await open(`QC${i}`, 'withLetter');
    await req(`/v1/inquiries/${c.body.inquiryId}/visits`, { officeId: 'main', visitedAt: nowIso(), ...GOOD_VISIT }, { 'if-match': c.etag });
    calls.push({
      kind: 'issue', key: `issue-${i}`, url: `/v1/cards/${cardId}/certificates`, inquiryId: c.body.inquiryId, cardId,
      body: { kind: 'userAuthentication', officeId: 'main', receivedAt: nowIso(), applicant: { type: 'agent', inquiryId: c.body.inquiryId }, generateKey: true },
    });
  }
  await app.close();
  const ok = (c: Call) => (c.kind === 'open' || c.kind === 'issue' ? 201 : 200);

  const port = await freePort();
  const first = await startService({ ...env, PORT: String(port) }, port, 1800);
  const exited = new Promise((r) => first.child.once('exit', r));
  // Issuances (key generation) are the slowest: they go first, the other requests when the first of
  // them is answered, so that at the kill (a third of all answered) every kind is in flight.
  const killAfter = Math.floor(calls.length / 3);
  let answered = 0;
  let releaseOthers!: () => void;
  const othersReleased = new Promise<void>((r) => {
    releaseOthers = r;
  });
  const firstAnswers = await Promise.all(calls.map(async (c) => {
    if (c.kind !== 'issue') await othersReleased;
    const a = await send(port, c);
    if (c.kind === 'issue') releaseOthers();
    if (a.status !== 0 && ++answered === killAfter) first.child.kill('SIGKILL');
    return a;
  }));
  await exited;
  const before = firstAnswers.filter((a) => a.status !== 0);
  t.comment(`${before.length} of ${calls.length} answered before the SIGKILL, ${calls.length - before.length} cut off`);
  t.ok(before.length >= killAfter && before.length < calls.length, 'killed with requests in flight');
  const refusedBefore = before.filter((a) => a.status === 503).length;
  t.same(calls.flatMap((c, i) => (firstAnswers[i]!.status === 0 || firstAnswers[i]!.status === 503 || firstAnswers[i]!.status === ok(c) ? [] : [[c.kind, firstAnswers[i]!.status, firstAnswers[i]!.body]])), [],
    `every answer before the crash: 200/201 or 503 (${refusedBefore} × 503)`);

  const second = await startService({ ...env, PORT: String(port) }, port, 1800);
  t.teardown(() => {
    second.child.kill('SIGTERM');
  });
  const get = async (url: string) => {
    const r = await fetch(`http://127.0.0.1:${port}${url}`, { headers: auth });
    return { body: (await r.json()) as any, etag: r.headers.get('etag') };
  };

  // Nothing half-done after the restart.
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  t.teardown(() => c.end());
  const rows = async (q: string, params: unknown[] = []) => (await c.query(q, params)).rows;
  const invariants = async (when: string) => {
    t.same(await rows(`SELECT i.inquiry_id, i.state, e.to_state FROM inquiries i LEFT JOIN LATERAL (SELECT to_state FROM inquiry_events e WHERE e.inquiry_id = i.inquiry_id ORDER BY id DESC LIMIT 1) e ON true WHERE e.to_state IS DISTINCT FROM i.state`), [],
      `${when}: every case's state is the to-state of its last history row`);
    t.same(await rows(`SELECT i.inquiry_id, i.version, (SELECT count(*)::int FROM inquiry_events e WHERE e.inquiry_id = i.inquiry_id) AS events FROM inquiries i WHERE i.version <> (SELECT count(*) FROM inquiry_events e WHERE e.inquiry_id = i.inquiry_id)`), [],
      `${when}: one history row per version`);
    t.same(await rows(`SELECT i.inquiry_id, i.version, (SELECT count(*)::int FROM audit_log a WHERE a.resource = 'inquiries/' || i.inquiry_id AND a.action LIKE 'inquiry.%') AS audit FROM inquiries i WHERE i.version <> (SELECT count(*) FROM audit_log a WHERE a.resource = 'inquiries/' || i.inquiry_id AND a.action LIKE 'inquiry.%')`), [],
      `${when}: one inquiry.* audit row per version`);
    t.same(await rows(`SELECT inquiry_id, state, consumed_by FROM inquiries WHERE (state = 'consumed') <> (consumed_by IS NOT NULL AND consumed_at IS NOT NULL)`), [],
      `${when}: consumed exactly when consumed_by and consumed_at are set`);
    t.same(await rows(`SELECT i.inquiry_id, i.consumed_by, (SELECT count(*)::int FROM certificates c WHERE c.resident_code = i.resident_code) AS certificates
      FROM inquiries i WHERE i.state = 'consumed' AND (NOT EXISTS (SELECT 1 FROM certificates c WHERE 'certificates/' || c.serial = i.consumed_by AND c.resident_code = i.resident_code)
        OR (SELECT count(*) FROM certificates c WHERE c.resident_code = i.resident_code) <> 1)`), [],
      `${when}: a consumed case names its resident's one certificate`);
    t.same(await rows(`SELECT a.resource FROM audit_log a WHERE a.action = 'certificate.issued' AND a.detail->>'applicant' = 'agent'
      AND (SELECT count(*) FROM inquiries i WHERE i.consumed_by = a.resource AND i.state = 'consumed') <> 1`), [],
      `${when}: every certificate issued to an agent used up exactly one case`);
    t.same(await rows(`SELECT c.serial FROM certificates c WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'certificate.issued' AND a.resource = 'certificates/' || c.serial)`), [],
      `${when}: every certificate has its certificate.issued audit row`);
    t.same(await rows(`SELECT idempotency_key FROM idempotency_keys WHERE status_code IS NULL`), [], `${when}: no idempotency key claimed without its stored response`);
    const verification = (await get('/v1/audit-events/verification')).body;
    t.equal(verification.ok, true, `${when}: audit chain verifies (${verification.checked} rows)`);
  };
  const states = await rows(`SELECT state, count(*)::int AS n FROM inquiries GROUP BY state ORDER BY state`);
  const consumedBefore = firstAnswers.filter((a, i) => calls[i]!.kind === 'issue' && a.status === 201).length;
  t.comment(`${consumedBefore} agent issuances answered 201 before the SIGKILL`);
  t.comment(`after the crash: ${states.map((s) => `${s.state} ${s.n}`).join(', ')}`);
  await invariants('after the restart');

  // Retry as a client would: again with the same key; for If-Match, read the case again and retry only
  // if it still allows the action (else it must already be in the state the request leads to).
  let fresh = 0;
  let replays = 0;
  let skipped = 0;
  let refusals = 0;
  const retryOnce = async (call: Call, i: number): Promise<Answer | null> => {
    for (let n = 0; ; n++) {
      let a: Answer;
      if (call.key) {
        a = await send(port, call);
      } else {
        const now = await get(`/v1/inquiries/${call.inquiryId}`);
        const action = call.kind === 'mail' ? 'mail' : 'visit';
        if (!now.body.allowedActions.includes(action)) {
          const want = call.kind === 'mail' ? 'mailed' : 'completed';
          if (now.body.state !== want) t.fail(`${call.kind} ${call.inquiryId}: not retryable, yet ${now.body.state} (not ${want})`);
          return null;
        }
        if (firstAnswers[i]!.status === 200) t.fail(`${call.kind} ${call.inquiryId}: answered 200 before the crash, yet still allows ${action}`);
        a = await send(port, call, now.etag!);
      }
      if (a.status !== 503 || n >= 20) return a;
      refusals++;
      await sleep(1000);
    }
  };
  const retries = await Promise.all(calls.map(retryOnce));
  calls.forEach((call, i) => {
    const a = retries[i];
    const was = firstAnswers[i]!;
    if (a === null) {
      skipped++;
      return;
    }
    if (a!.status !== ok(call)) t.fail(`${call.kind} retry: ${a!.status} ${JSON.stringify(a!.body)}`);
    if (a!.replayed) replays++;
    else fresh++;
    if (call.key && was.status === 201) {
      if (!a!.replayed) t.fail(`${call.key}: answered before the crash but done again`);
      if (call.kind === 'open' && a!.body.inquiryId !== was.body.inquiryId) t.fail(`${call.key}: replay with another case`);
      if (call.kind === 'issue' && a!.body.certificate.serial !== was.body.certificate.serial) t.fail(`${call.key}: replay with another serial`);
    }
  });
  if (refusals > 0) t.comment(`${refusals} retries were refused with 503 first and tried again`);
  t.comment(`retries: ${fresh} done now, ${replays} replayed, ${skipped} If-Match requests not retried (the case had moved on)`);
  const done = before.length - refusedBefore;
  t.ok(replays + skipped >= done, 'every request answered before the crash replayed or already done');

  // A second round changes nothing: keyed requests replay, If-Match requests find their case moved on.
  const again = await Promise.all(calls.map(retryOnce));
  t.same(calls.flatMap((call, i) => {
    const a = again[i];
    if (call.key) return a && a.status === ok(call) && a.replayed ? [] : [[call.key, a?.status]];
    return a ? [[call.kind, call.inquiryId, a.status]] : [];
  }), [], 'a second retry: every keyed request replays, no If-Match request is retryable');

  // Each request took effect exactly once.
  const opened = await rows(`SELECT resident_code, count(*)::int AS n FROM inquiries WHERE resident_code = ANY($1) GROUP BY resident_code`, [calls.filter((x) => x.kind === 'open').map((x) => x.residentCode)]);
  t.equal(opened.length, PER_KIND, 'every resident opened for has a case');
  t.same(opened.filter((r) => r.n !== 1), [], 'each exactly one');
  const actions = async (kind: Kind, action: string, to: string) => {
    const ids = calls.filter((x) => x.kind === kind).map((x) => x.inquiryId);
    const r = await rows(`SELECT i.inquiry_id, i.state, (SELECT count(*)::int FROM inquiry_events e WHERE e.inquiry_id = i.inquiry_id AND e.action = $2) AS n FROM inquiries i WHERE i.inquiry_id = ANY($1)`, [ids, action]);
    t.equal(r.length, PER_KIND, `${kind}: every case there`);
    t.same(r.filter((x) => x.n !== 1 || x.state !== to), [], `${kind}: every case ${to}, with exactly one ${action} event`);
  };
  await actions('mail', 'mail', 'mailed');
  await actions('visit', 'visit', 'completed');
  await actions('issue', 'consume', 'consumed');
  const issued = await rows(`SELECT card_id, array_agg(serial) AS serials FROM certificates WHERE card_id = ANY($1) GROUP BY card_id`, [calls.filter((x) => x.kind === 'issue').map((x) => x.cardId)]);
  t.equal(issued.length, PER_KIND, 'every agent issuance made a certificate');
  const serialOf = new Map(calls.flatMap((call, i) => (call.kind === 'issue' ? [[call.cardId!, retries[i]!.body.certificate.serial as string]] : [])));
  t.same(issued.filter((r) => r.serials.length !== 1 || r.serials[0] !== serialOf.get(r.card_id)), [], 'one certificate per card: the one every answer names');
  await invariants('after the retries');
});
