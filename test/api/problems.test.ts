import t from 'tap';
import { Problem } from '../../src/problems.js';
import fc from 'fast-check';
import { findMyNumberInHeaders } from '../../src/plugins/my-number-guard.js';
import { testApp } from '../support/app.js';

const PROBLEM = /^application\/problem\+json/;

t.test('every error is problem+json with the right status', async (t) => {
  const h = await testApp(t, { BODY_LIMIT_BYTES: '2048', RATE_LIMIT_MAX: '1000' });

  await t.test('400: schema violations list each field, unknown fields are rejected, not stripped', async (t) => {
    const res = await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: '', scopes: ['nope'], colour: 'red' } });
    t.equal(res.statusCode, 400);
    t.match(res.headers['content-type'], PROBLEM);
    const body = res.json();
    t.equal(body.type, 'urn:jpki-ward:problem:validationFailed');
    t.ok(body.errors.some((e: { path: string }) => e.path === 'body/colour'), 'unknown field named');
    t.ok(body.errors.some((e: { path: string }) => e.path === 'body/name'), 'bad field named');
    const keys = await h.request({ method: 'GET', url: '/v1/api-keys' });
    t.equal(keys.json().items.length, 1, 'nothing was created');
  });

  await t.test('400: malformed JSON', async (t) => {
    const res = await h.request({ method: 'POST', url: '/v1/api-keys', payload: '{"name":', headers: { 'content-type': 'application/json' } });
    t.equal(res.statusCode, 400);
    t.match(res.headers['content-type'], PROBLEM);
  });

  await t.test('401 without a key, 403 with the wrong scope', async (t) => {
    const none = await h.request({ method: 'GET', url: '/v1/api-keys', auth: null });
    t.equal(none.statusCode, 401);
    t.match(none.headers['content-type'], PROBLEM);
    t.match(none.headers['www-authenticate'], /^Bearer/);
    const created = await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'reader', scopes: ['status:read'] } });
    const forbidden = await h.request({ method: 'GET', url: '/v1/api-keys', auth: created.json().secret });
    t.equal(forbidden.statusCode, 403);
    t.equal(forbidden.json().requiredScope, 'admin');
  });

  await t.test('404 for unknown routes and resources, 405 for a wrong method', async (t) => {
    const route = await h.request({ method: 'GET', url: '/v1/nothing-here' });
    t.equal(route.statusCode, 404);
    t.match(route.headers['content-type'], PROBLEM);
    const resource = await h.request({ method: 'DELETE', url: '/v1/api-keys/key_unknown' });
    t.equal(resource.statusCode, 404);
    const method = await h.request({ method: 'PATCH', url: '/v1/api-keys' });
    t.equal(method.statusCode, 405);
    t.match(method.headers.allow, /GET/);
    t.match(method.headers.allow, /POST/);
  });

  await t.test('413 over the body limit, 415 for another media type', async (t) => {
    const big = await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'x'.repeat(5000), scopes: ['admin'] } });
    t.equal(big.statusCode, 413);
    t.match(big.headers['content-type'], PROBLEM);
    const xml = await h.request({ method: 'POST', url: '/v1/api-keys', payload: '<key/>', headers: { 'content-type': 'application/xml' } });
    t.equal(xml.statusCode, 415);
    t.match(xml.headers['content-type'], PROBLEM);
  });

  await t.test('422 for an idempotency key reused with another body', async (t) => {
    const first = await h.request({ method: 'POST', url: '/v1/api-keys', headers: { 'idempotency-key': 'k-422' }, payload: { name: 'a', scopes: ['admin'] } });
    t.equal(first.statusCode, 201);
    const other = await h.request({ method: 'POST', url: '/v1/api-keys', headers: { 'idempotency-key': 'k-422' }, payload: { name: 'b', scopes: ['admin'] } });
    t.equal(other.statusCode, 422);
    t.equal(other.json().type, 'urn:jpki-ward:problem:idempotencyKeyReused');
  });
});

t.test('409, 412, 428, 503 and 500 render through the one error handler', async (t) => {
  const h = await testAppWithThrowingRoutes(t);
  for (const [status, code] of [[409, 'wrongState'], [412, 'stale'], [428, 'ifMatchRequired'], [503, 'databaseUnavailable']] as const) {
    const res = await h.request({ method: 'GET', url: `/test/problem/${status}` });
    t.equal(res.statusCode, status);
    t.match(res.headers['content-type'], PROBLEM);
    t.equal(res.json().type, `urn:jpki-ward:problem:${code}`);
  }
  const crash = await h.request({ method: 'GET', url: '/test/crash' });
  t.equal(crash.statusCode, 500);
  t.match(crash.headers['content-type'], PROBLEM);
  t.notMatch(crash.body, /SELECT|secret_table|at .*\.ts/, 'no SQL or stack in the response');
  t.match(h.logs(), /secret_table/, 'the cause is logged for operators');
  const down = await h.request({ method: 'GET', url: '/test/db-down' });
  t.equal(down.statusCode, 503, 'an unreachable database is 503, not 500');
  t.equal(down.headers['retry-after'], '5');
});

t.test('429 with Retry-After when a key exceeds its rate', async (t) => {
  const h = await testApp(t, { RATE_LIMIT_MAX: '3' });
  const statuses = [];
  for (let i = 0; i < 5; i++) statuses.push((await h.request({ method: 'GET', url: '/v1/api-keys' })).statusCode);
  t.same(statuses, [200, 200, 200, 429, 429]);
  const res = await h.request({ method: 'GET', url: '/v1/api-keys' });
  t.match(res.headers['content-type'], PROBLEM);
  t.ok(Number(res.headers['retry-after']) > 0);
  const other = await h.request({ method: 'GET', url: '/health/live', auth: 'another-key-another-bucket-000' });
  t.equal(other.statusCode, 200, 'limits are per key');
});

t.test('X-Request-Id is honoured or generated, and returned', async (t) => {
  const h = await testApp(t);
  const given = await h.request({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'counter-7.abc' } });
  t.equal(given.headers['x-request-id'], 'counter-7.abc');
  t.match(h.logs(), /"reqId":"counter-7.abc"/);
  const generated = await h.request({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'bad id\r\nx' } });
  t.match(generated.headers['x-request-id'], /^[0-9a-f-]{36}$/);
});

async function testAppWithThrowingRoutes(t: Parameters<typeof testApp>[0]) {
  const { buildApp } = await import('../../src/app.js');
  const { loadConfig } = await import('../../src/config.js');
  const { createTestDatabase } = await import('../support/database.js');
  const { ADMIN_KEY } = await import('../support/app.js');
  const db = await createTestDatabase();
  const logs: string[] = [];
  const { runLogStream } = await import('../support/run-log.js');
  const app = await buildApp(loadConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, ADMIN_API_KEY: ADMIN_KEY, MAX_EVENT_LOOP_DELAY_MS: '0' }), {
    logStream: runLogStream('app', logs),
  });
  const codes: Record<string, string> = { 409: 'wrongState', 412: 'stale', 428: 'ifMatchRequired' };
  app.get('/test/problem/:status', { config: { auth: 'public' } }, async (request) => {
    const status = Number((request.params as { status: string }).status);
    if (status === 503) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    throw new Problem(status, codes[status] ?? 'x', 'test');
  });
  app.get('/test/crash', { config: { auth: 'public' } }, async () => {
    throw new Error('syntax error in SELECT * FROM secret_table');
  });
  app.get('/test/db-down', { config: { auth: 'public' } }, async () => {
    throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
  });
  await app.ready();
  t.teardown(async () => { await app.close(); await db.drop(); });
  return { logs: () => logs.join(''), request: (o: { method: 'GET'; url: string }) => app.inject(o) };
}

t.test('422 for a value shaped like a My Number in any string field', async (t) => {
  const h = await testApp(t);
  // 123456789018 has a valid check digit; 123456789012 does not.
  const refused = await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'resident 1234 5678 9018', scopes: ['admin'] } });
  t.equal(refused.statusCode, 422);
  t.equal(refused.json().type, 'urn:jpki-ward:problem:myNumberNotAccepted');
  t.notMatch(refused.body, '9018', 'the number is not echoed');
  t.same(refused.json().errors, [{ path: 'body/name', message: 'My Number not accepted' }]);
  const inQuery = await h.request({ method: 'GET', url: '/v1/audit-events?resource=123456789018' });
  t.equal(inQuery.statusCode, 422);
  const fine = await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'resident 123456789012', scopes: ['admin'] } });
  t.equal(fine.statusCode, 201, 'twelve digits without the check digit pass');
  t.equal((await h.app.ctx.db.selectFrom('api_keys').select('key_id').execute()).length, 2, 'the refused request stored nothing');
});

t.test('422 for a My Number in a header the service keeps: Idempotency-Key (stored), X-Request-Id (logged, audited, echoed)', async (t) => {
  const h = await testApp(t);
  const payload = { name: 'header check', scopes: ['status:read'] };
  for (const [header, value] of [['idempotency-key', '123456789018'], ['idempotency-key', 'order-1234-5678-9018'], ['x-request-id', '123456789018'], ['x-request-id', 'req.123456789018']]) {
    const refused = await h.request({ method: 'POST', url: '/v1/api-keys', headers: { [header!]: value! }, payload });
    t.equal(refused.statusCode, 422, `${header}: ${value}`);
    t.equal(refused.json().type, 'urn:jpki-ward:problem:myNumberNotAccepted');
    t.same(refused.json().errors, [{ path: `headers/${header}`, message: 'My Number not accepted' }]);
    t.notMatch(`${refused.body} ${JSON.stringify(refused.headers)}`, /9018/, 'the number is not echoed in the body or a header');
  }
  const read = await h.request({ method: 'GET', url: '/v1/api-keys', headers: { 'x-request-id': '123456789018' } });
  t.equal(read.statusCode, 422, 'reads too');
  t.equal((await h.app.ctx.db.selectFrom('api_keys').select('key_id').execute()).length, 1, 'no key made');
  t.equal((await h.app.ctx.db.selectFrom('idempotency_keys').select('idempotency_key').execute()).length, 0, 'no Idempotency-Key stored');
  t.notMatch(h.logs(), /123456789018/, 'nor logged');
  const fine = await h.request({ method: 'POST', url: '/v1/api-keys', headers: { 'idempotency-key': '123456789012', 'x-request-id': 'req-123456789012' }, payload });
  t.equal(fine.statusCode, 201, 'twelve digits without the check digit pass');
  t.equal(fine.headers['x-request-id'], 'req-123456789012', 'and a fine request id is kept');
  // 1234-5678-9018 across its dashes passes the check digit, yet a UUID is a random token.
  const uuid = '0a1b2c3d-1234-5678-9018-0a1b2c3d4e5f';
  const byUuid = await h.request({ method: 'POST', url: '/v1/api-keys', headers: { 'idempotency-key': uuid, 'x-request-id': uuid }, payload });
  t.equal(byUuid.statusCode, 201, 'a UUID is not a My Number, whatever digits it holds');
  t.equal(byUuid.headers['x-request-id'], uuid, 'and is kept as the request id');
});

t.test('no UUID is taken for a My Number in a kept header', async (t) => {
  fc.assert(fc.property(fc.uuid({ version: 4 }), fc.constantFrom('idempotency-key', 'x-request-id'), (uuid, header) =>
    findMyNumberInHeaders({ [header]: uuid }) === undefined), { numRuns: 20_000 });
  t.pass('20,000 random UUIDs');
});

t.test('JSON bodies are not coerced: a number where a string belongs is a 400; query strings are', async (t) => {
  const h = await testApp(t);
  const numeric = await h.request({ method: 'POST', url: '/v1/pins/check', payload: { pinKind: 'userAuthentication', pin: 1234 } });
  t.equal(numeric.statusCode, 400);
  t.same(numeric.json().errors.map((e: { path: string }) => e.path), ['body/pin']);
  const array = await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: ['x'], scopes: ['admin'] } });
  t.equal(array.statusCode, 400);
  const query = await h.request({ method: 'GET', url: '/v1/api-keys?limit=2' });
  t.equal(query.statusCode, 200, 'limit=2 in a query string is a number');
});
