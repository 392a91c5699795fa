import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import t, { type Test } from 'tap';
import { buildApp } from '../../src/app.js';
import { DEV_CA_KEY_PASSPHRASE, loadConfig } from '../../src/config.js';
import { verifyAuditChain } from '../../src/db/repositories/audit-log.js';
import { decryptPrivateKey, spkiDer } from '../../src/pki/keys.js';
import { ADMIN_KEY, testApp, type TestApp } from '../support/app.js';
import { databaseUrl, openTestDatabase } from '../support/database.js';
import { lifecycle } from '../support/lifecycle.js';
import { runLogStream } from '../support/run-log.js';

const run = promisify(execFile);

/** Every table's rows as text, in a stable order: equal contents, equal answers. */
async function contents(db: Kysely<any>): Promise<Record<string, string>> {
  const tables = (await sql<{ t: string }>`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'kysely_%' ORDER BY 1`.execute(db)).rows;
  const out: Record<string, string> = {};
  for (const { t } of tables) {
    const r = await sql<{ n: string; h: string | null }>`SELECT count(*)::text AS n, md5(string_agg(x::text, '|' ORDER BY x::text)) AS h FROM ${sql.table(t)} x`.execute(db);
    out[t] = `${r.rows[0]!.n}:${r.rows[0]!.h ?? ''}`;
  }
  return out;
}

/** What every restore must give: the scenario's data, CA keys that decrypt (with the passphrase only), a verifying chain. */
async function scenario(h: Pick<TestApp, 'request'>): Promise<{ revokedSerial: string; goodSerial: string }> {
  const s = lifecycle(h as TestApp);
  await s.setClock('2026-01-15T10:00:00+09:00');
  await s.register('R-BK-1', { name: '控え 一郎', address: '東京都新宿区高田馬場1-1', dateOfBirth: '1980-03-03', sex: 'male' });
  const { card } = await s.card('R-BK-1', '2026-01-15', '2026-01-15T09:30:00+09:00');
  const ua = await s.issue(card.cardId, 'userAuthentication', '2026-01-15T10:00:00+09:00');
  const sig = await s.issue(card.cardId, 'signature', '2026-01-15T10:00:00+09:00');
  const revoked = await h.request({ method: 'POST', url: `/v1/certificates/${ua.certificate.serial}/revocation`, payload: { reason: 'keyCompromise' } });
  if (revoked.statusCode !== 201) throw new Error(`revocation: ${revoked.statusCode} ${revoked.body}`);
  await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'backup', scopes: ['status:read'] } });
  return { revokedSerial: ua.certificate.serial, goodSerial: sig.certificate.serial };
}

/** Each CA and OCSP-responder key: still an encrypted PKCS#8 PEM, decrypts with the passphrase to the key of its certificate, and not with another. */
async function checkCaKeys(t: Test, db: Kysely<any>): Promise<void> {
  const cas = (await sql<{ ca_id: string; certificate: Uint8Array; encrypted_key: string; responder_certificate: Uint8Array; responder_encrypted_key: string }>`
    SELECT ca_id, certificate, encrypted_key, responder_certificate, responder_encrypted_key FROM certificate_authorities ORDER BY ca_id`.execute(db)).rows;
  t.equal(cas.length, 2, 'both CAs');
  for (const ca of cas) {
    for (const [what, pem, cert] of [['CA', ca.encrypted_key, ca.certificate], ['OCSP responder', ca.responder_encrypted_key, ca.responder_certificate]] as const) {
      t.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/, `${ca.ca_id} ${what} key stored encrypted`);
      t.notMatch(pem, /BEGIN PRIVATE KEY/, 'never in the clear');
      const key = decryptPrivateKey(pem, DEV_CA_KEY_PASSPHRASE);
      const certSpki = new X509Certificate(Buffer.from(cert)).publicKey.export({ type: 'spki', format: 'der' });
      t.ok(spkiDer(key).equals(certSpki), `${ca.ca_id} ${what} key decrypts with CA_KEY_PASSPHRASE to the key of its certificate`);
      t.throws(() => decryptPrivateKey(pem, 'not-the-ca-key-passphrase'), { code: 'keyDecryptFailed' }, 'and does not with another passphrase');
    }
  }
}

/** A brand-new, empty PostgreSQL database, dropped when the test ends. */
async function freshDatabase(t: Test): Promise<string> {
  const name = `restore_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  t.teardown(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });
  return databaseUrl(name);
}

function tempDir(t: Test, prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('npm run backup / npm run restore: a fresh database gets every certificate, CA key (still encrypted) and audit row back, and a service on it answers', async (t) => {
  const h = await testApp(t);
  const { revokedSerial, goodSerial } = await scenario(h);

  const file = path.join(tempDir(t, 'jpki-backup-'), 'ward.backup.ndjson.gz');
  const env = { ...process.env, NODE_ENV: 'test', DATABASE_URL: h.databaseUrl };
  const backup = await run('npx', ['tsx', 'scripts/backup.ts', file], { env });
  const dumped = JSON.parse(backup.stdout).rows as Record<string, number>;
  t.ok(dumped.certificates! >= 2 && dumped.audit_log! >= 5 && dumped.certificate_authorities! >= 2, `backed up ${JSON.stringify(dumped)}`);
  t.equal(statSync(file).mode & 0o777, 0o600, 'the backup file is readable by its owner only');

  // A brand-new, empty database; restore migrates it and loads the backup.
  const target = await freshDatabase(t);
  const restored = await run('npx', ['tsx', 'scripts/restore.ts', file], { env: { ...env, DATABASE_URL: target } });
  t.same(JSON.parse(restored.stdout).rows, Object.fromEntries(Object.entries(dumped).filter(([, n]) => n > 0)), 'every row loaded');

  const copy = await openTestDatabase(target);
  t.teardown(() => copy.close());
  t.same(await contents(copy.db), await contents(h.app.ctx.db), 'every table identical, row for row');
  await checkCaKeys(t, copy.db);
  const chain = await verifyAuditChain(copy.db);
  t.match(chain, { ok: true, firstBroken: null }, 'the audit chain verifies on the restored database');
  t.equal(chain.lastHash, (await verifyAuditChain(h.app.ctx.db)).lastHash, 'same chain head as the original');

  // Restoring twice into the same database is refused: it has history now.
  const again = await run('npx', ['tsx', 'scripts/restore.ts', file], { env: { ...env, DATABASE_URL: target } }).catch((e: { code: number; stderr: string }) => e);
  t.equal((again as { code?: number }).code, 1);
  t.match((again as { stderr: string }).stderr, /restore into a fresh database/);

  const seq = await sql<{ v: string }>`SELECT nextval(pg_get_serial_sequence('audit_log', 'id'))::text AS v`.execute(copy.db);
  t.ok(Number(seq.rows[0]!.v) > chain.checked, 'sequences continue after the restored rows');

  // The restored database serves: a service started on it (its CA keys decrypted at start-up) answers for the certificates.
  const app = await buildApp(loadConfig({ NODE_ENV: 'test', DATABASE_URL: target, ADMIN_API_KEY: ADMIN_KEY, MAX_EVENT_LOOP_DELAY_MS: '0', LOG_LEVEL: 'warn' }), { logStream: runLogStream('app') });
  t.teardown(() => app.close());
  const auth = { authorization: `Bearer ${ADMIN_KEY}` };
  const at = encodeURIComponent('2026-01-15T12:00:00+09:00');
  const revoked = await app.inject({ method: 'GET', url: `/v1/certificates/${revokedSerial}?at=${at}`, headers: auth });
  t.equal(revoked.statusCode, 200);
  t.match(revoked.json(), { serial: revokedSerial, status: 'revoked', revocation: { reason: 'keyCompromise' } }, 'the revoked certificate, revoked');
  const good = await app.inject({ method: 'GET', url: `/v1/certificates/${goodSerial}?at=${at}`, headers: auth });
  t.match(good.json(), { serial: goodSerial, status: 'good' }, 'the other, good');
  t.equal((await app.inject({ method: 'GET', url: '/pki/userAuthentication/crl' })).statusCode, 200, 'its CRL is served');
  const report = (await app.inject({ method: 'GET', url: '/v1/pki/consistency?regenerate=true', headers: auth })).json();
  t.equal(report.consistent, true, 'CRLs and OCSP answers match the restored data');
});

t.test('a PGlite DATA_DIR backs up with npm run backup and restores into a fresh PostgreSQL database', async (t) => {
  // The service on embedded PGlite, as `npm start` runs it without DATABASE_URL.
  const dataDir = tempDir(t, 'jpki-pglite-backup-');
  const source = await buildApp(loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, ADMIN_API_KEY: ADMIN_KEY, CLOCK_CONTROL: 'enabled', MAX_EVENT_LOOP_DELAY_MS: '0', LOG_LEVEL: 'warn' }), { logStream: runLogStream('app') });
  const request = (opts: { method: 'GET' | 'POST' | 'PUT'; url: string; payload?: object }) => source.inject({ ...opts, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  let closed = false;
  t.teardown(() => (closed ? undefined : source.close()));
  const { revokedSerial } = await scenario({ request } as Pick<TestApp, 'request'>);
  const sourceChain = await verifyAuditChain(source.ctx.db);
  const sourceCounts = await sql<{ n: string }>`SELECT count(*)::text AS n FROM certificates`.execute(source.ctx.db);
  await source.close();
  closed = true;

  const file = path.join(tempDir(t, 'jpki-backup-'), 'pglite.backup.ndjson.gz');
  const env = { ...process.env, NODE_ENV: 'test', DATABASE_URL: '', DATA_DIR: dataDir };
  const backup = await run('npx', ['tsx', 'scripts/backup.ts', file], { env });
  const dumped = JSON.parse(backup.stdout).rows as Record<string, number>;
  t.equal(dumped.certificates, Number(sourceCounts.rows[0]!.n), `backed up from the PGlite data directory: ${JSON.stringify(dumped)}`);

  const target = await freshDatabase(t);
  const restored = await run('npx', ['tsx', 'scripts/restore.ts', file], { env: { ...env, DATABASE_URL: target } });
  t.same(JSON.parse(restored.stdout).rows, Object.fromEntries(Object.entries(dumped).filter(([, n]) => n > 0)), 'every row loaded into PostgreSQL');
  const copy = await openTestDatabase(target);
  t.teardown(() => copy.close());
  await checkCaKeys(t, copy.db);
  const chain = await verifyAuditChain(copy.db);
  t.match(chain, { ok: true, firstBroken: null, checked: sourceChain.checked }, 'the audit chain verifies, every row there');
  t.equal(chain.lastHash, sourceChain.lastHash, 'same chain head as on PGlite');
  const status = await sql<{ status: string }>`SELECT status FROM certificates WHERE serial = ${revokedSerial}`.execute(copy.db);
  t.equal(status.rows[0]?.status, 'revoked', 'the revocation came along');
});
