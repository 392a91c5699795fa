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

t.test('a failed use case leaves no audit row (same transaction)', async (t) => {
  const h = await testApp(t);
  const before = await h.app.ctx.db.selectFrom('audit_log').select('id').execute();
  const res = await h.request({ method: 'DELETE', url: '/v1/api-keys/key_missing' });
  t.equal(res.statusCode, 404);
  const after = await h.app.ctx.db.selectFrom('audit_log').select('id').execute();
  t.equal(after.length, before.length);
});
