import { readFileSync } from 'node:fs';
import { validate } from '@readme/openapi-parser';
import { sql } from 'kysely';
import pg from 'pg';
import t from 'tap';
import { openapiText } from '../../src/openapi-document.js';
import { testApp } from '../support/app.js';

t.test('health, metrics, docs and the OpenAPI document', async (t) => {
  const h = await testApp(t);
  t.same((await h.request({ method: 'GET', url: '/health/live', auth: null })).json(), { status: 'ok' });
  t.same((await h.request({ method: 'GET', url: '/health/ready', auth: null })).json(), { ready: true, database: 'up', migrations: 'current' });

  await h.request({ method: 'GET', url: '/v1/api-keys' });
  const metrics = await h.request({ method: 'GET', url: '/metrics', auth: null });
  t.match(metrics.headers['content-type'], /^text\/plain/);
  t.match(metrics.body, /http_request_duration_seconds_count\{method="GET",route="\/v1\/api-keys",status_code="200"\} 1/);
  t.match(metrics.body, /db_pool_total/);
  t.match(metrics.body, /process_resident_memory_bytes/);

  const docs = await h.request({ method: 'GET', url: '/docs/', auth: null });
  t.equal(docs.statusCode, 200);
  t.match(docs.body, /swagger/i);
  const csp = String(docs.headers['content-security-policy']);
  t.notMatch(csp, /upgrade-insecure-requests/, 'Swagger UI loads over plain HTTP from another host');
  for (const directive of ["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "img-src 'self' data:"]) {
    t.match(csp, directive, `the rest of the CSP stays: ${directive}`);
  }
  t.equal(docs.headers['x-content-type-options'], 'nosniff');

  const spec = (await h.request({ method: 'GET', url: '/openapi.json', auth: null })).json();
  t.equal(spec.openapi, '3.1.0');
  const result = await validate(structuredClone(spec));
  t.ok(result.valid, `valid OpenAPI 3.1: ${JSON.stringify(result.valid ? [] : result.errors).slice(0, 500)}`);
  t.ok(spec.paths['/v1/api-keys'].post.security, 'non-public routes declare the bearer scheme');
  t.notOk(spec.paths['/health/live'].get.security, 'public routes do not');
  const errorMedia = new Set<string>();
  for (const operations of Object.values(spec.paths) as Record<string, { responses: Record<string, { content?: object }> }>[]) {
    for (const operation of Object.values(operations)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (/^[45]/.test(status)) for (const media of Object.keys(response.content ?? {})) errorMedia.add(media);
      }
    }
  }
  t.same([...errorMedia], ['application/problem+json'], 'every 4xx/5xx response is declared application/problem+json');

  const committed = readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8');
  t.equal(committed, openapiText(h.app), 'openapi/openapi.json is current (run `npm run openapi`)');
});

t.test('/health/ready and requests answer 503 while the database refuses connections, and recover', async (t) => {
  const h = await testApp(t);
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  t.teardown(() => admin.end());
  const name = new URL(h.databaseUrl).pathname.slice(1);
  await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
  const ready = await h.request({ method: 'GET', url: '/health/ready', auth: null });
  t.equal(ready.statusCode, 503);
  t.equal(ready.json().database, 'down');
  const read = await h.request({ method: 'GET', url: '/v1/api-keys' });
  t.equal(read.statusCode, 503, 'not 500');
  t.ok(read.headers['retry-after']);
  await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
  t.equal((await h.request({ method: 'GET', url: '/health/ready', auth: null })).statusCode, 200, 'recovers without a restart');
});

t.test('/health/ready answers 503 while a migration of this code is not applied', async (t) => {
  const h = await testApp(t);
  const db = new pg.Client({ connectionString: h.databaseUrl });
  await db.connect();
  t.teardown(() => db.end());
  const { rows } = await db.query<{ name: string }>('SELECT name FROM kysely_migration ORDER BY name DESC LIMIT 1');
  await db.query('DELETE FROM kysely_migration WHERE name = $1', [rows[0]!.name]);
  const pending = await h.request({ method: 'GET', url: '/health/ready', auth: null });
  t.equal(pending.statusCode, 503);
  t.match(pending.headers['content-type'], /^application\/problem\+json/);
  t.match(pending.json(), { ready: false, database: 'up', migrations: 'pending' });
  t.ok(pending.headers['retry-after']);
  await db.query('INSERT INTO kysely_migration (name, timestamp) VALUES ($1, now())', [rows[0]!.name]);
  t.equal((await h.request({ method: 'GET', url: '/health/ready', auth: null })).statusCode, 200, 'ready again once it is applied');
});

t.test('the clock can be moved only when CLOCK_CONTROL=enabled', async (t) => {
  const h = await testApp(t);
  const set = await h.request({ method: 'PUT', url: '/v1/clock', payload: { now: '2031-04-01T09:00:00+09:00' } });
  t.equal(set.statusCode, 200);
  t.equal(set.json().adjusted, true);
  t.ok(Math.abs(Date.parse(set.json().now) - Date.parse('2031-04-01T00:00:00Z')) < 5000);
  const created = (await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'x', scopes: ['admin'] } })).json();
  t.match(created.createdAt, /^2031-04-01T00:00/, 'writes follow the service clock');
  const audit = (await h.request({ method: 'GET', url: '/v1/audit-events?resource=clock' })).json().items;
  t.equal(audit[0].action, 'clock.set');
  t.equal((await h.request({ method: 'DELETE', url: '/v1/clock' })).json().adjusted, false);

  const off = await testApp(t, { CLOCK_CONTROL: 'disabled' });
  t.equal((await off.request({ method: 'PUT', url: '/v1/clock', payload: { now: '2031-04-01T09:00:00+09:00' } })).statusCode, 404);
});

t.test('the clock moves only when its audit row commits', async (t) => {
  const h = await testApp(t);
  const db = h.app.ctx.db;
  await sql`CREATE FUNCTION refuse_clock_audit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.resource = 'clock' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$`.execute(db);
  await sql`CREATE TRIGGER refuse_clock_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_clock_audit()`.execute(db);

  const set = await h.request({ method: 'PUT', url: '/v1/clock', payload: { now: '2031-04-01T09:00:00+09:00' } });
  t.equal(set.statusCode, 500);
  const after = (await h.request({ method: 'GET', url: '/v1/clock' })).json();
  t.equal(after.adjusted, false, 'the clock did not move');
  t.ok(Math.abs(Date.parse(after.now) - Date.now()) < 60_000);

  await sql`DROP TRIGGER refuse_clock_audit ON audit_log`.execute(db);
  t.equal((await h.request({ method: 'PUT', url: '/v1/clock', payload: { now: '2031-04-01T09:00:00+09:00' } })).statusCode, 200);
  await sql`CREATE TRIGGER refuse_clock_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_clock_audit()`.execute(db);
  t.equal((await h.request({ method: 'DELETE', url: '/v1/clock' })).statusCode, 500);
  const still = (await h.request({ method: 'GET', url: '/v1/clock' })).json();
  t.equal(still.adjusted, true, 'a reset whose audit fails leaves the clock where it was');
  t.match(still.now, /^2031-04-01T00:0/);
});

