import { randomBytes } from 'node:crypto';
import t from 'tap';
import { insertApiKey } from '../../src/db/repositories/api-keys.js';
import { bootstrapAdminKey, BOOTSTRAP_ADMIN_KEY_ID, hashSecret } from '../../src/services/api-keys.js';
import { testApp } from '../support/app.js';

t.test('API keys: created with scopes, listed without secrets, revoked, expired', async (t) => {
  const h = await testApp(t);
  const created = await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'counter terminal', scopes: ['status:read', 'certificates:write'] } });
  t.equal(created.statusCode, 201);
  const key = created.json();
  t.match(key.secret, /^jpw_[A-Za-z0-9_-]{43}$/);
  t.same(key.scopes, ['status:read', 'certificates:write']);

  const list = await h.request({ method: 'GET', url: '/v1/api-keys' });
  t.notMatch(list.body, key.secret, 'the secret is never listed');
  t.equal(list.json().items.length, 2);

  t.equal((await h.request({ method: 'GET', url: '/v1/clock', auth: key.secret })).statusCode, 200, 'status:read key reads');
  t.equal((await h.request({ method: 'PUT', url: '/v1/clock', auth: key.secret, payload: { now: '2030-01-01T00:00:00+09:00' } })).statusCode, 403, 'but cannot set the clock');

  t.equal((await h.request({ method: 'DELETE', url: `/v1/api-keys/${key.keyId}` })).statusCode, 204);
  t.equal((await h.request({ method: 'GET', url: '/v1/clock', auth: key.secret })).statusCode, 401, 'a revoked key is refused');

  const row = await h.app.ctx.db.selectFrom('api_keys').selectAll().where('key_id', '=', key.keyId).executeTakeFirstOrThrow();
  t.notMatch(JSON.stringify(row), key.secret, 'only a hash is stored');

  const soon = new Date(h.app.clock.now().getTime() + 60_000).toISOString();
  const expiring = (await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'temp', scopes: ['status:read'], expiresAt: soon } })).json();
  t.equal((await h.request({ method: 'GET', url: '/v1/clock', auth: expiring.secret })).statusCode, 200);
  h.app.clock.set(new Date(Date.parse(soon) + 1000));
  t.equal((await h.request({ method: 'GET', url: '/v1/clock', auth: expiring.secret })).statusCode, 401, 'an expired key is refused');

  const page1 = await h.request({ method: 'GET', url: '/v1/api-keys?limit=1' });
  t.equal(page1.json().items.length, 1);
  const page2 = await h.request({ method: 'GET', url: `/v1/api-keys?limit=5&cursor=${page1.json().nextCursor}` });
  t.equal(page2.json().items.length, 2);
  t.equal(page2.json().nextCursor, null);
  t.equal((await h.request({ method: 'GET', url: '/v1/api-keys?cursor=garbage' })).statusCode, 400);
});

t.test('Idempotency-Key: the same request replays the first answer, without the secret', async (t) => {
  const h = await testApp(t);
  const payload = { name: 'batch job', scopes: ['residents:write'] };
  const first = await h.request({ method: 'POST', url: '/v1/api-keys', headers: { 'idempotency-key': 'abc-1' }, payload });
  const again = await h.request({ method: 'POST', url: '/v1/api-keys', headers: { 'idempotency-key': 'abc-1' }, payload: { scopes: ['residents:write'], name: 'batch job' } });
  t.equal(first.statusCode, 201);
  t.equal(again.statusCode, 201, 'same status as the first');
  t.equal(again.headers['idempotent-replayed'], 'true');
  t.equal(again.json().keyId, first.json().keyId, 'the same key, not a second one');
  t.equal(again.json().secret, undefined, 'the secret is not stored, so not replayed');
  t.equal(again.json().secretOmitted, true);
  const keys = await h.app.ctx.db.selectFrom('api_keys').select('key_id').execute();
  t.equal(keys.length, 2, 'one key made, not two');
  const audits = await h.app.ctx.db.selectFrom('audit_log').select('id').where('action', '=', 'apiKey.created').execute();
  t.equal(audits.length, 1, 'one audit row');

  const concurrent = await Promise.all(
    Array.from({ length: 5 }, () => h.request({ method: 'POST', url: '/v1/api-keys', headers: { 'idempotency-key': 'race' }, payload })),
  );
  t.same(concurrent.map((r) => r.statusCode), [201, 201, 201, 201, 201]);
  t.equal(new Set(concurrent.map((r) => r.json().keyId)).size, 1, 'concurrent retries do the work once');

  const other = await h.request({ method: 'POST', url: '/v1/api-keys', headers: { 'idempotency-key': 'abc-1' }, payload: { name: 'other', scopes: ['admin'] } });
  t.equal(other.statusCode, 422);
});

t.test('the bootstrap admin key made by processes starting together: no unique violation, one key', async (t) => {
  const h = await testApp(t);
  const ctx = h.app.ctx;
  // In-process stand-ins for replicas starting at once: each call is one upsert on its own connection.
  for (let round = 0; round < 15; round++) {
    await ctx.db.deleteFrom('api_keys').where('key_id', '=', BOOTSTRAP_ADMIN_KEY_ID).execute();
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => bootstrapAdminKey(ctx)));
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length > 0) {
      t.fail(`round ${round}: ${String((failed[0] as PromiseRejectedResult).reason)}`);
      return;
    }
  }
  const keys = await ctx.db.selectFrom('api_keys').select('key_id').where('key_id', '=', BOOTSTRAP_ADMIN_KEY_ID).execute();
  t.equal(keys.length, 1);
  t.equal((await h.request({ method: 'GET', url: '/v1/api-keys' })).statusCode, 200, 'and the admin key works');
});

t.test('a key is accepted only when its whole stored hash matches: a row sharing the looked-up prefix is refused', async (t) => {
  const h = await testApp(t);
  const secret = `jpw_${randomBytes(32).toString('base64url')}`;
  const hash = hashSecret(secret);
  const flip = (c: string) => (c === '0' ? '1' : '0');
  // Same first 64 bits (what the lookup uses), one hex digit different at the end.
  const impostorHash = `${hash.slice(0, -1)}${flip(hash.at(-1)!)}`;
  const now = h.app.clock.now();
  const row = (keyId: string) => ({ keyId, name: keyId, scopes: ['admin'], createdAt: now, expiresAt: null, revokedAt: null });
  await insertApiKey(h.app.ctx.db, row('key_impostor'), impostorHash);
  t.equal((await h.request({ method: 'GET', url: '/v1/api-keys', auth: secret })).statusCode, 401, 'a candidate whose stored hash differs is refused');

  await insertApiKey(h.app.ctx.db, row('key_genuine'), hash);
  const created = await h.request({ method: 'POST', url: '/v1/api-keys', auth: secret, payload: { name: 'made by the genuine key', scopes: ['status:read'] } });
  t.equal(created.statusCode, 201, 'the key whose stored hash is the presented one is accepted');
  const audit = await h.app.ctx.db.selectFrom('audit_log').select('key_id').where('action', '=', 'apiKey.created').executeTakeFirstOrThrow();
  t.equal(audit.key_id, 'key_genuine', 'as the genuine key, not the one sharing its prefix');
});
