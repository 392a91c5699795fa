import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { sql } from 'kysely';
import { testApp } from '../support/app.js';

const run = promisify(execFile);

/** A few audited writes: API keys created and revoked. */
async function someWrites(h: Awaited<ReturnType<typeof testApp>>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const created = await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: `chain-${i}`, scopes: ['status:read'] } });
    if (i % 2 === 0) await h.request({ method: 'DELETE', url: `/v1/api-keys/${created.json().keyId}` });
  }
}

t.test('every audit row is chained; verification passes on an untouched log', async (t) => {
  const h = await testApp(t);
  await someWrites(h, 6);
  const rows = await sql<{ id: string; prev_hash: string; hash: string }>`SELECT id::text AS id, prev_hash, hash FROM audit_log ORDER BY audit_log.id`.execute(h.app.ctx.db);
  t.ok(rows.rows.length >= 9);
  t.equal(rows.rows[0]!.prev_hash, '0'.repeat(64), 'the first row links to the genesis hash');
  for (let i = 1; i < rows.rows.length; i++) t.equal(rows.rows[i]!.prev_hash, rows.rows[i - 1]!.hash, `row ${i} links to row ${i - 1}`);
  const res = await h.request({ method: 'GET', url: '/v1/audit-events/verification' });
  t.equal(res.statusCode, 200);
  t.match(res.json(), { ok: true, checked: rows.rows.length, firstBroken: null, lastHash: rows.rows.at(-1)!.hash });
  const denied = await h.request({ method: 'GET', url: '/v1/audit-events/verification', auth: null });
  t.equal(denied.statusCode, 401);
});

t.test('concurrent appends on real PostgreSQL still form one chain', async (t) => {
  const h = await testApp(t);
  await Promise.all(Array.from({ length: 40 }, (_, i) => h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: `c${i}`, scopes: ['status:read'] } })));
  const res = (await h.request({ method: 'GET', url: '/v1/audit-events/verification' })).json();
  t.match(res, { ok: true, firstBroken: null });
  t.ok(res.checked >= 40);
});

t.test('a row edited, deleted or appended behind the service’s back is found', async (t) => {
  const h = await testApp(t);
  await someWrites(h, 6);
  const db = h.app.ctx.db;
  const ids = (await sql<{ id: string }>`SELECT id::text AS id FROM audit_log ORDER BY audit_log.id`.execute(db)).rows.map((r) => r.id);
  const victim = ids[3]!;

  // What a superuser could do: switch off the append-only trigger and rewrite history.
  await sql`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`.execute(db);
  t.teardown(() => sql`ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only`.execute(db).then(() => undefined).catch(() => undefined));
  await sql`UPDATE audit_log SET action = 'apiKey.forged' WHERE id = ${victim}::bigint`.execute(db);
  let report = (await h.request({ method: 'GET', url: '/v1/audit-events/verification' })).json();
  t.match(report, { ok: false, checked: 4, firstBroken: { id: victim, problem: 'hashMismatch' }, lastId: ids[2] });

  // The script says the same, with exit code 1.
  const script = await run('npx', ['tsx', 'scripts/audit-verify.ts'], { env: { ...process.env, DATABASE_URL: h.databaseUrl, NODE_ENV: 'test' } }).catch((e: { code: number; stdout: string }) => e);
  t.equal((script as { code?: number }).code, 1, 'npm run audit:verify exits 1');
  t.match(JSON.parse((script as { stdout: string }).stdout), { ok: false, firstBroken: { id: victim, problem: 'hashMismatch' } });

  // Recomputing the edited row's own hash does not help: the next row no longer links to it.
  await sql`UPDATE audit_log SET hash = audit_row_hash(prev_hash, id, at, key_id, action, resource, request_id, detail) WHERE id = ${victim}::bigint`.execute(db);
  report = (await h.request({ method: 'GET', url: '/v1/audit-events/verification' })).json();
  t.match(report, { ok: false, firstBroken: { id: ids[4], problem: 'prevHashMismatch' } });

  // Then delete a row further on: the earliest break is still reported.
  await sql`DELETE FROM audit_log WHERE id = ${ids[5]!}::bigint`.execute(db);
  report = (await h.request({ method: 'GET', url: '/v1/audit-events/verification' })).json();
  t.equal(report.ok, false);
  t.equal(report.firstBroken.id, ids[4], 'the first broken link is still the earliest one');
});

t.test('rows removed from the end are found through the chain head', async (t) => {
  const h = await testApp(t);
  await someWrites(h, 3);
  const db = h.app.ctx.db;
  const ids = (await sql<{ id: string }>`SELECT id::text AS id FROM audit_log ORDER BY audit_log.id`.execute(db)).rows.map((r) => r.id);
  await sql`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`.execute(db);
  await sql`DELETE FROM audit_log WHERE id = ${ids.at(-1)!}::bigint`.execute(db);
  await sql`ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only`.execute(db);
  const report = (await h.request({ method: 'GET', url: '/v1/audit-events/verification' })).json();
  t.match(report, { ok: false, checked: ids.length - 1, firstBroken: { problem: 'headMismatch', id: ids.at(-1) } });
});
