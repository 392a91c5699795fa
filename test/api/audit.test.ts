import t from 'tap';
import { sql } from 'kysely';
import { testApp } from '../support/app.js';

t.test('every write appends an audit row; the table refuses UPDATE and DELETE', async (t) => {
  const h = await testApp(t);
  const created = await h.request({ method: 'POST', url: '/v1/api-keys', headers: { 'x-request-id': 'req-audit-1' }, payload: { name: 'a', scopes: ['admin'] } });
  const keyId = created.json().keyId;
  await h.request({ method: 'DELETE', url: `/v1/api-keys/${keyId}`, headers: { 'x-request-id': 'req-audit-2' } });

  const events = (await h.request({ method: 'GET', url: `/v1/audit-events?resource=api-keys/${keyId}` })).json().items;
  t.match(events, [
    { action: 'apiKey.created', keyId: 'key_bootstrap_admin', requestId: 'req-audit-1', resource: `api-keys/${keyId}` },
    { action: 'apiKey.revoked', requestId: 'req-audit-2' },
  ]);

  await t.rejects(sql`UPDATE audit_log SET action = 'forged'`.execute(h.app.ctx.db), /append-only/);
  await t.rejects(sql`DELETE FROM audit_log`.execute(h.app.ctx.db), /append-only/);
  await t.rejects(sql`TRUNCATE audit_log`.execute(h.app.ctx.db), /append-only/);
  const after = (await h.request({ method: 'GET', url: `/v1/audit-events?resource=api-keys/${keyId}` })).json().items;
  t.same(after, events, 'history unchanged');

  const from = events[0].at;
  const ranged = (await h.request({ method: 'GET', url: `/v1/audit-events?from=${encodeURIComponent(from)}&limit=1` })).json();
  t.equal(ranged.items.length, 1);
  t.type(ranged.nextCursor, 'string');
  const bad = await h.request({ method: 'GET', url: '/v1/audit-events?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z' });
  t.equal(bad.statusCode, 400);
});

t.test('a use case that fails after its writes leaves neither them nor its audit row (same transaction)', async (t) => {
  const h = await testApp(t);
  const db = h.app.ctx.db;
  // Injected failure: storing the idempotent response is the last statement of POST /v1/api-keys,
  // after the key row and the audit row are written in the same transaction.
  await sql`CREATE FUNCTION fail_idempotent_store() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'injected failure'; END $$`.execute(db);
  await sql`CREATE TRIGGER fail_idempotent_store BEFORE UPDATE ON idempotency_keys
    FOR EACH ROW EXECUTE FUNCTION fail_idempotent_store()`.execute(db);
  const auditBefore = (await db.selectFrom('audit_log').select('id').execute()).length;
  const keysBefore = (await db.selectFrom('api_keys').select('key_id').execute()).length;

  const res = await h.request({ method: 'POST', url: '/v1/api-keys', headers: { 'idempotency-key': 'fails-late' }, payload: { name: 'never', scopes: ['admin'] } });
  t.equal(res.statusCode, 500);
  t.equal((await db.selectFrom('api_keys').select('key_id').execute()).length, keysBefore, 'the key row written first is gone');
  t.equal((await db.selectFrom('audit_log').select('id').execute()).length, auditBefore, 'so is its audit row');
  t.same(await db.selectFrom('audit_log').select('id').where('action', '=', 'apiKey.created').execute(), []);

  await sql`DROP TRIGGER fail_idempotent_store ON idempotency_keys`.execute(db);
  const retried = await h.request({ method: 'POST', url: '/v1/api-keys', headers: { 'idempotency-key': 'fails-late' }, payload: { name: 'never', scopes: ['admin'] } });
  t.equal(retried.statusCode, 201, 'nothing of the failed attempt remains: the same key runs afresh');
  t.equal((await db.selectFrom('audit_log').select('id').where('action', '=', 'apiKey.created').execute()).length, 1);
});

t.test('the audit list keeps rows at or before `to`', async (t) => {
  const h = await testApp(t);
  const at = async (now: string, name: string) => {
    await h.request({ method: 'PUT', url: '/v1/clock', payload: { now } });
    return (await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name, scopes: ['admin'] } })).json().keyId as string;
  };
  const early = await at('2031-01-10T09:00:00+09:00', 'early');
  const late = await at('2031-03-10T09:00:00+09:00', 'late');
  const list = async (query: string) =>
    ((await h.request({ method: 'GET', url: `/v1/audit-events?${query}` })).json().items as { resource: string; at: string }[]).map((e) => e.resource);

  const toFeb = await list(`to=${encodeURIComponent('2031-02-01T00:00:00+09:00')}`);
  t.ok(toFeb.includes(`api-keys/${early}`), 'a row before `to` is listed');
  t.notOk(toFeb.includes(`api-keys/${late}`), 'a row after `to` is not');

  const earlyAt = (await h.request({ method: 'GET', url: `/v1/audit-events?resource=api-keys/${early}` })).json().items[0].at;
  t.same(await list(`resource=api-keys/${early}&to=${encodeURIComponent(earlyAt)}`), [`api-keys/${early}`], '`to` includes its own instant');
  t.same(await list(`from=${encodeURIComponent('2031-02-01T00:00:00+09:00')}&to=${encodeURIComponent('2031-04-01T00:00:00+09:00')}&resource=api-keys/${late}`), [`api-keys/${late}`], 'from and to together');
});
