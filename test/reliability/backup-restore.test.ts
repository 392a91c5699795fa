import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import t from 'tap';
import { verifyAuditChain } from '../../src/db/repositories/audit-log.js';
import { databaseUrl, openTestDatabase } from '../support/database.js';
import { testApp } from '../support/app.js';
import { lifecycle } from '../support/lifecycle.js';

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

t.test('npm run backup / npm run restore: a fresh database gets every certificate, CA key (still encrypted) and audit row back', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  await s.setClock('2026-01-15T10:00:00+09:00');
  await s.register('R-BK-1', { name: '控え 一郎', address: '東京都新宿区高田馬場1-1', dateOfBirth: '1980-03-03', sex: 'male' });
  const { card } = await s.card('R-BK-1', '2026-01-15', '2026-01-15T09:30:00+09:00');
  const ua = await s.issue(card.cardId, 'userAuthentication', '2026-01-15T10:00:00+09:00');
  await s.issue(card.cardId, 'signature', '2026-01-15T10:00:00+09:00');
  await h.request({ method: 'POST', url: `/v1/certificates/${ua.certificate.serial}/revocation`, payload: { reason: 'keyCompromise' } });
  await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'backup', scopes: ['status:read'] } });

  const dir = mkdtempSync(path.join(tmpdir(), 'jpki-backup-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'ward.backup.ndjson.gz');
  const env = { ...process.env, NODE_ENV: 'test', DATABASE_URL: h.databaseUrl };
  const backup = await run('npx', ['tsx', 'scripts/backup.ts', file], { env });
  const dumped = JSON.parse(backup.stdout).rows as Record<string, number>;
  t.ok(dumped.certificates! >= 2 && dumped.audit_log! >= 5 && dumped.certificate_authorities! >= 2, `backed up ${JSON.stringify(dumped)}`);
  t.equal(statSync(file).mode & 0o777, 0o600, 'the backup file is readable by its owner only');

  // A brand-new, empty database; restore migrates it and loads the backup.
  const name = `restore_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  t.teardown(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });
  const target = databaseUrl(name);
  const restored = await run('npx', ['tsx', 'scripts/restore.ts', file], { env: { ...env, DATABASE_URL: target } });
  t.same(JSON.parse(restored.stdout).rows, Object.fromEntries(Object.entries(dumped).filter(([, n]) => n > 0)), 'every row loaded');

  const copy = await openTestDatabase(target);
  t.teardown(() => copy.close());
  t.same(await contents(copy.db), await contents(h.app.ctx.db), 'every table identical, row for row');
  const cas = await sql<{ encrypted_key: Uint8Array | string }>`SELECT encrypted_key FROM certificate_authorities`.execute(copy.db);
  for (const ca of cas.rows) t.match(Buffer.from(ca.encrypted_key as Uint8Array).toString(), /ENCRYPTED PRIVATE KEY|^0\x82/, 'CA key still encrypted (PKCS#8 EncryptedPrivateKeyInfo)');
  const chain = await verifyAuditChain(copy.db);
  t.match(chain, { ok: true, firstBroken: null }, 'the audit chain verifies on the restored database');
  t.equal(chain.lastHash, (await verifyAuditChain(h.app.ctx.db)).lastHash, 'same chain head as the original');

  // Restoring twice into the same database is refused: it has history now.
  const again = await run('npx', ['tsx', 'scripts/restore.ts', file], { env: { ...env, DATABASE_URL: target } }).catch((e: { code: number; stderr: string }) => e);
  t.equal((again as { code?: number }).code, 1);
  t.match((again as { stderr: string }).stderr, /restore into a fresh database/);

  // The restored database serves: a service on it answers for the certificate.
  const seq = await sql<{ v: string }>`SELECT nextval(pg_get_serial_sequence('audit_log', 'id'))::text AS v`.execute(copy.db);
  t.ok(Number(seq.rows[0]!.v) > chain.checked, 'sequences continue after the restored rows');
});
