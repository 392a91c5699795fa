import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import t, { type Test } from 'tap';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { PKI_LOCK_NAMESPACE } from '../../src/db/repositories/pki.js';
import type { Database } from '../../src/db/schema.js';
import { CA_IDS, generateResidentKeyPair } from '../../src/pki/index.js';
import { readOcspStatus } from '../../src/pki/status-read.js';
import { changeCertificateStatus } from '../../src/services/certificate-status.js';
import { inTransaction } from '../../src/services/context.js';
import { startPkiMaintenance, type PkiMaintenance, type PkiMaintenanceOptions } from '../../src/services/pki-maintenance.js';
import { ADMIN_KEY } from '../support/app.js';
import { createTestDatabase, openTestDatabase } from '../support/database.js';
import { insertResident, issue, keyMaterialIn, openssl, put, tempDir } from './pki-support.js';

const HOUR = 3_600_000;

async function app(t: Test, url: string, pkiMaintenance: boolean): Promise<{ app: FastifyInstance; logs: () => string }> {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'info', DATABASE_URL: url, ADMIN_API_KEY: ADMIN_KEY, CLOCK_CONTROL: 'enabled', MAX_EVENT_LOOP_DELAY_MS: '0' });
  const chunks: string[] = [];
  const logStream = new Writable({ write(c, _e, done) { chunks.push(c.toString()); done(); } });
  const a = await buildApp(config, { logStream, pkiMaintenance });
  await a.ready();
  t.teardown(() => a.close());
  return { app: a, logs: () => chunks.join('') };
}

/** One service on a fresh database of its own, with no background work of its own. */
async function freshApp(t: Test): Promise<{ a: FastifyInstance; ctx: FastifyInstance['ctx']; url: string }> {
  const db = await createTestDatabase();
  t.teardown(() => db.drop());
  const { app: a } = await app(t, db.url, false);
  return { a, ctx: a.ctx, url: db.url };
}

/** The background work for `ctx`, on a connection of its own (as the service starts it), stopped when the test ends. */
async function maintenanceOf(t: Test, ctx: FastifyInstance['ctx'], url: string, options: Omit<PkiMaintenanceOptions, 'database'>): Promise<PkiMaintenance> {
  const handle = await openTestDatabase(url);
  t.teardown(() => handle.close());
  const maintenance = startPkiMaintenance(ctx, { database: handle, ...options });
  t.teardown(() => maintenance.stop());
  return maintenance;
}

async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

t.test('two processes starting at once on a fresh database create each CA once', async (t) => {
  const db = await createTestDatabase();
  t.teardown(() => db.drop());
  // The test template already holds CAs (made once by scripts/test.ts): start from none.
  const empty = await openTestDatabase(db.url);
  await empty.db.deleteFrom('certificate_authorities').execute();
  await empty.close();
  const [a, b] = await Promise.all([app(t, db.url, false), app(t, db.url, false)]);
  for (const ca of ['signature', 'userAuthentication'] as const) {
    t.same(a.app.ctx.cas.get(ca).identity.certificate, b.app.ctx.cas.get(ca).identity.certificate, `${ca}: both loaded the same CA`);
  }
  const rows = await a.app.ctx.db.selectFrom('certificate_authorities').select('ca_id').execute();
  t.equal(rows.length, 2);
  const crls = await a.app.ctx.db.selectFrom('crls').select(['ca_id', 'crl_number']).execute();
  t.equal(crls.length, 2, 'one first CRL per CA, not two');

  // Both processes made CA and responder keys here, with their logs captured: none of it is logged.
  const logs = a.logs() + b.logs();
  t.match(logs, /created certificate authorities/, 'the logs cover the key generation');
  const keys = [a, b].flatMap(({ app }) => app.ctx.cas.all().flatMap((ca) => [ca.privateKey, ca.responder.privateKey]));
  const stored = await a.app.ctx.db.selectFrom('certificate_authorities').select(['encrypted_key', 'responder_encrypted_key']).execute();
  t.same(keyMaterialIn(logs, [...keys, ...stored.flatMap((r) => [r.encrypted_key, r.responder_encrypted_key])]), [], 'no CA or responder key, plain or encrypted, in the logs');
});

t.test('background work: revocations committed while a regeneration is pending are all in it, those after it read the counts give one more; two processes share the work', async (t) => {
  // How coalescing works (pki-maintenance.ts, regenerateCrl): a status change marks its CA stale
  // (crl_stale_since, crl_changes) and sends NOTIFY crl_stale at commit; each process gathers
  // notifications for debounceMs, then one process at a time (session advisory lock) rebuilds every
  // stale CRL. A rebuild reads crl_changes when it starts, after the CA's transaction lock, and clears
  // staleness at the end only if the count has not moved. So what the design guarantees is: every
  // change committed before a rebuild reads the counts is in that rebuild, and changes committed
  // after that give exactly one more rebuild, however many they are. A free-running burst that lasts
  // longer than the debounce can straddle one rebuild's reading of the counts and give two, or more
  // for a burst spread over several debounce windows: the count depends on timing, not on the number
  // of revocations. Here the timing is fixed by holding a rebuild at each of the two points.
  // (Pacing, crlPacing, only delays the follow-up rebuild after a long build; 0 here, so the test
  // does not wait for it. It never adds rebuilds.)
  const db = await createTestDatabase();
  t.teardown(() => db.drop());
  const [a, b] = [await app(t, db.url, false), await app(t, db.url, false)];
  const ctx = a.app.ctx;
  const resident = await insertResident(a.app);
  const spki = (await generateResidentKeyPair()).spki;
  const serials: string[] = [];
  for (let i = 0; i < 62; i++) serials.push((await issue(a.app, 'userAuthentication', spki, resident)).serial);
  const maintenances = [await maintenanceOf(t, a.app.ctx, db.url, { pollMs: 60_000, crlPacing: 0 }), await maintenanceOf(t, b.app.ctx, db.url, { pollMs: 60_000, crlPacing: 0 })];
  const blocker = await openTestDatabase(db.url);
  t.teardown(() => blocker.close());
  for (const m of maintenances) await m.runNow();
  const latest = () => ctx.db.selectFrom('crls').select(['crl_number', 'entry_count']).where('ca_id', '=', 'userAuthentication').orderBy('crl_number', 'desc').executeTakeFirstOrThrow();
  const stale = async () => (await ctx.db.selectFrom('certificate_authorities').select('crl_stale_since').where('ca_id', '=', 'userAuthentication').executeTakeFirstOrThrow()).crl_stale_since;
  const revoke = (serial: string, i: number) => {
    const c = (i % 2 ? b : a).app.ctx;
    return inTransaction(c, (trx) => changeCertificateStatus(trx, c, { serial, status: 'revoked', reason: 'cessationOfOperation', effectiveAt: c.clock.now(), cause: `burst-${i}` }));
  };
  const waiting = async (lock: 'advisory' | 'relation') => {
    const { rows } = lock === 'advisory'
      ? await sql<{ n: string }>`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid::bigint = ${PKI_LOCK_NAMESPACE} AND objid::bigint = ${CA_IDS.indexOf('userAuthentication') + 1}`.execute(ctx.db)
      : await sql<{ n: string }>`SELECT count(*) AS n FROM pg_locks WHERE relation = 'crls'::regclass AND NOT granted`.execute(ctx.db);
    return Number(rows[0]!.n) > 0;
  };
  /** Holds `hold` in a transaction of its own while `during` runs, a rebuild waiting on it. */
  const withRebuildHeld = async (hold: (trx: Kysely<Database>) => Promise<unknown>, lock: 'advisory' | 'relation', trigger: string, burst: string[]) => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let held!: () => void;
    const holding = new Promise<void>((r) => (held = r));
    const tx = blocker.db.transaction().execute(async (trx) => {
      await hold(trx);
      held();
      await released;
    });
    await holding;
    await revoke(trigger, 0); // its NOTIFY starts a rebuild after the debounce, which then waits
    await until('a rebuild waiting', () => waiting(lock));
    await Promise.all(burst.map((serial, i) => revoke(serial, i + 1)));
    await new Promise((r) => setTimeout(r, 500)); // past the debounce of the burst's last notification
    release();
    await tx;
    await until('the CRL to cover every revocation', async () => (await stale()) === null);
    for (const m of maintenances) await m.runNow();
  };

  // 1. The rebuild is held before it reads the counts (the CA's transaction lock): one rebuild for all 31.
  const start = Number((await latest()).crl_number);
  await withRebuildHeld((trx) => sql`SELECT pg_advisory_xact_lock(${PKI_LOCK_NAMESPACE}::int4, ${CA_IDS.indexOf('userAuthentication') + 1}::int4)`.execute(trx), 'advisory', serials[0]!, serials.slice(1, 31));
  const first = await latest();
  t.equal(first.entry_count, 31, 'every revocation is in the latest CRL');
  t.equal(Number(first.crl_number) - start, 1, 'one rebuild for 31 revocations committed while it was pending');

  // 2. The rebuild is held after it read the counts (its INSERT into crls waits): it covers the
  // revocation that started it, and the 30 committed meanwhile give exactly one more.
  await withRebuildHeld((trx) => sql`LOCK TABLE crls IN SHARE MODE`.execute(trx), 'relation', serials[31]!, serials.slice(32));
  const second = await latest();
  t.equal(second.entry_count, 62, 'every revocation is in the latest CRL');
  t.equal(Number(second.crl_number) - Number(first.crl_number), 2, 'the held rebuild and one more for the 30 committed after it read the counts');
  const previous = await ctx.db.selectFrom('crls').select('entry_count').where('ca_id', '=', 'userAuthentication').where('crl_number', '=', String(Number(second.crl_number) - 1)).executeTakeFirstOrThrow();
  t.equal(previous.entry_count, 32, 'the held one has what was committed before it read the counts');
  t.notMatch(a.logs() + b.logs(), /maintenance run failed/);
});

t.test('background work: OCSP answers refreshed at half-life, responders renewed before expiry and answers re-signed', async (t) => {
  const { a, ctx, url } = await freshApp(t);
  const resident = await insertResident(a);
  const spki = (await generateResidentKeyPair()).spki;
  const issued = await issue(a, 'userAuthentication', spki, resident);
  const maintenance = await maintenanceOf(t, ctx, url, { pollMs: 60_000 });
  await maintenance.runNow();
  const row = () => ctx.db.selectFrom('ocsp_responses').selectAll().where('serial', '=', issued.serial).executeTakeFirstOrThrow();
  const first = await row();

  const start = ctx.clock.now().getTime();
  a.clock.set(new Date(start + (ctx.config.policy.ocspValidityHours / 2 - 1) * HOUR));
  await maintenance.runNow();
  t.equal((await row()).this_update.getTime(), first.this_update.getTime(), 'not yet at half-life: kept');
  a.clock.set(new Date(start + (ctx.config.policy.ocspValidityHours / 2 + 1) * HOUR));
  await maintenance.runNow();
  const refreshed = await row();
  t.ok(refreshed.this_update > first.this_update, 'past half-life: re-signed');
  t.ok(refreshed.next_update > first.next_update);
  t.ok(refreshed.sha256_der && !Buffer.from(refreshed.sha256_der).equals(Buffer.from(first.sha256_der!)), 'the SHA-256 answer with it');
  t.equal(readOcspStatus(refreshed.sha256_der!).hashAlgorithm, 'sha256');

  const oldResponder = ctx.cas.get('userAuthentication').responder.certificate;
  a.clock.set(new Date(start + 21 * 24 * HOUR)); // a 30-day responder is renewed in its last 10 days
  await maintenance.runNow();
  const newResponder = ctx.cas.get('userAuthentication').responder.certificate;
  t.notSame(newResponder, oldResponder, 'responder renewed');
  const stored = await ctx.db.selectFrom('certificate_authorities').select('responder_certificate').where('ca_id', '=', 'userAuthentication').executeTakeFirstOrThrow();
  t.same(Buffer.from(stored.responder_certificate), newResponder, 'and stored');
  const resigned = await row();
  t.ok(Buffer.from(resigned.sha1_der).includes(newResponder), 'stored answers now carry the new responder certificate');
  t.ok(resigned.sha256_der && Buffer.from(resigned.sha256_der).includes(newResponder), 'both of them: the SHA-256 one was re-signed by the new responder too');
  a.clock.reset();
});

t.test('rows from before migration 0013 without a SHA-256 answer: reported, answered tryLater without signing, signed by the first refresh', async (t) => {
  const { a, ctx, url } = await freshApp(t);
  const resident = await insertResident(a);
  const issued = await issue(a, 'signature', (await generateResidentKeyPair()).spki, resident);
  // What migration 0013 leaves behind: a NULL written while the column allowed it, under a NOT VALID check.
  await sql`ALTER TABLE ocsp_responses DROP CONSTRAINT ocsp_responses_sha256_signed`.execute(ctx.db);
  await sql`UPDATE ocsp_responses SET sha256_der = NULL WHERE serial = ${issued.serial}`.execute(ctx.db);
  await sql`ALTER TABLE ocsp_responses ADD CONSTRAINT ocsp_responses_sha256_signed CHECK (sha256_der IS NOT NULL) NOT VALID`.execute(ctx.db);
  const row = () => ctx.db.selectFrom('ocsp_responses').select(['sha1_der', 'sha256_der', 'this_update']).where('serial', '=', issued.serial).executeTakeFirstOrThrow();
  const legacy = await row();
  const consistency = async () => (await a.inject({ method: 'GET', url: '/v1/pki/consistency?regenerate=true', headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json();
  const before = await consistency();
  t.equal(before.consistent, false, 'the consistency check reports the missing answer');
  t.same(before.cas.find((c: { ca: string }) => c.ca === 'signature').ocsp, [{ serial: issued.serial, database: 'good', published: 'none' }]);

  const dir = await tempDir(t);
  const caPath = await put(dir, 'ca.pem', ctx.cas.get('signature').certificatePem);
  const certPath = await put(dir, 'cert.pem', issued.pem);
  const ask = async (hash: 'sha1' | 'sha256') => {
    const reqPath = `${dir}/${hash}.req`;
    t.equal((await openssl(['ocsp', `-${hash}`, '-no_nonce', '-issuer', caPath, '-cert', certPath, '-reqout', reqPath])).code, 0);
    const res = await a.inject({ method: 'POST', url: '/pki/signature/ocsp', headers: { 'content-type': 'application/ocsp-request' }, payload: await readFile(reqPath) });
    return res.rawPayload;
  };
  t.same(await ask('sha256'), Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x03]), 'a SHA-256 CertID gets tryLater (unsigned), not an answer signed on the request path');
  t.equal((await row()).sha256_der, null, 'and nothing was signed or stored for it');
  t.same(await ask('sha1'), Buffer.from(legacy.sha1_der), 'the SHA-1 answer is served as stored');

  // The background work's first run treats the row as due, whatever its half-life.
  const maintenance = await maintenanceOf(t, ctx, url, { pollMs: 60_000 });
  await maintenance.runNow();
  const signed = await row();
  t.ok(signed.sha256_der, 'signed by the refresh');
  t.match(readOcspStatus(signed.sha256_der!), { serial: issued.serial, status: 'good', hashAlgorithm: 'sha256' });
  t.same(await ask('sha256'), Buffer.from(signed.sha256_der!), 'and served as stored');
  t.equal((await consistency()).consistent, true);
});

t.test('background work: each CRL is published again once half its validity (CRL_VALIDITY_HOURS) has passed, not before', async (t) => {
  const { a, ctx, url } = await freshApp(t);
  const maintenance = await maintenanceOf(t, ctx, url, { pollMs: 60_000 });
  await maintenance.runNow();
  const latest = async () => Object.fromEntries(await Promise.all(CA_IDS.map(async (ca) => {
    const r = await ctx.db.selectFrom('crls').select(['crl_number', 'this_update', 'next_update']).where('ca_id', '=', ca).orderBy('crl_number', 'desc').executeTakeFirstOrThrow();
    return [ca, { number: Number(r.crl_number), thisUpdate: r.this_update.getTime(), nextUpdate: r.next_update.getTime() }] as const;
  })));
  const first = await latest();
  const validity = ctx.config.policy.crlValidityHours * HOUR;
  const half = (ca: string) => first[ca]!.thisUpdate + validity / 2;
  for (const ca of CA_IDS) t.equal(first[ca]!.nextUpdate - first[ca]!.thisUpdate, validity, `${ca}: nextUpdate is CRL_VALIDITY_HOURS after thisUpdate`);

  a.clock.set(new Date(Math.min(...CA_IDS.map(half)) - 60_000));
  await maintenance.runNow();
  t.same(await latest(), first, 'a minute before half its validity: not republished');

  const later = Math.max(...CA_IDS.map(half)) + 60_000;
  a.clock.set(new Date(later));
  await maintenance.runNow();
  const next = await latest();
  for (const ca of CA_IDS) {
    t.equal(next[ca]!.number, first[ca]!.number + 1, `${ca}: past half its validity, a new CRL with the next number`);
    t.equal(next[ca]!.thisUpdate, Math.floor(later / 1000) * 1000, `${ca}: thisUpdate is now`);
    t.equal(next[ca]!.nextUpdate - next[ca]!.thisUpdate, validity);
  }
  const served = await a.inject({ method: 'GET', url: '/pki/signature/crl' });
  t.equal(served.headers.etag, `"crl-signature-${next.signature!.number}"`, 'and it is the one served');
  await maintenance.runNow();
  t.same(await latest(), next, 'once, not at every run');
  a.clock.reset();
});

t.test('staleness lives in the database: changes made while nothing runs give one regeneration later', async (t) => {
  const { a, ctx, url } = await freshApp(t);
  const resident = await insertResident(a);
  const spki = (await generateResidentKeyPair()).spki;
  const serials: string[] = [];
  for (let i = 0; i < 10; i++) serials.push((await issue(a, 'signature', spki, resident)).serial);
  const latest = () => ctx.db.selectFrom('crls').select(['crl_number', 'entry_count']).where('ca_id', '=', 'signature').orderBy('crl_number', 'desc').executeTakeFirstOrThrow();
  const before = Number((await latest()).crl_number);
  for (const serial of serials) {
    await inTransaction(ctx, (trx) => changeCertificateStatus(trx, ctx, { serial, status: 'revoked', reason: 'superseded', effectiveAt: ctx.clock.now(), cause: 'test' }));
  }
  const ca = await ctx.db.selectFrom('certificate_authorities').select(['crl_stale_since', 'crl_changes']).where('ca_id', '=', 'signature').executeTakeFirstOrThrow();
  t.ok(ca.crl_stale_since, 'stale');
  t.equal(Number(ca.crl_changes), 10, 'ten changes counted');
  // A process starting now (maintenance's first run) picks it up.
  const maintenance = await maintenanceOf(t, ctx, url, { pollMs: 60_000 });
  await maintenance.runNow();
  await maintenance.stop();
  const after = await latest();
  t.equal(Number(after.crl_number), before + 1, 'one regeneration for ten changes');
  t.equal(after.entry_count, 10);
});

t.test('CRL regenerations are paced by their cost: within the pause a change waits, runNow does not', async (t) => {
  const { a, ctx, url } = await freshApp(t);
  const resident = await insertResident(a);
  const spki = (await generateResidentKeyPair()).spki;
  const [first, second] = [await issue(a, 'userAuthentication', spki, resident), await issue(a, 'userAuthentication', spki, resident)];
  // An enormous pacing factor: after one regeneration, the next waits (for the test) indefinitely.
  const maintenance = await maintenanceOf(t, ctx, url, { pollMs: 60_000, debounceMs: 20, crlPacing: 1e9 });
  const stale = async () => (await ctx.db.selectFrom('certificate_authorities').select('crl_stale_since').where('ca_id', '=', 'userAuthentication').executeTakeFirstOrThrow()).crl_stale_since;
  const revoke = (serial: string) => inTransaction(ctx, (trx) => changeCertificateStatus(trx, ctx, { serial, status: 'revoked', reason: 'cessationOfOperation', effectiveAt: ctx.clock.now(), cause: 'pacing' }));

  await maintenance.runNow();
  await revoke(first.serial);
  await maintenance.runNow();
  t.equal(await stale(), null, 'a regeneration, which starts the pause');
  await revoke(second.serial);
  await new Promise((r) => setTimeout(r, 1500));
  t.not(await stale(), null, 'the next change waits for the pacing pause (the OCSP answer is already signed)');
  const ocsp = await ctx.db.selectFrom('ocsp_responses').select('status').where('serial', '=', second.serial).executeTakeFirstOrThrow();
  t.equal(ocsp.status, 'revoked');
  await maintenance.runNow();
  t.equal(await stale(), null, 'runNow regenerates at once');
});
