import t from 'tap';
import { SCOPES } from '../../src/services/scopes.js';
import { testApp } from '../support/app.js';
import { Fixture, PUBLIC_ROUTES, VALID_REQUESTS, concretePath, makeKeys, routes } from './route-catalogue.js';

t.test('every registered route × every kind of caller gets the answer its config.auth promises', async (t) => {
  const h = await testApp(t, { RATE_LIMIT_MAX: '0' });
  const all = routes(h.app);
  // The clock first: revoked and expired keys are so relative to the service clock.
  const fixture = new Fixture(h);
  t.teardown(() => fixture.close());
  await fixture.setClock();
  const keys = await makeKeys(h.app);

  // The table must hold every route: cross-check it with the OpenAPI document.
  const doc = h.app.swagger() as { paths: Record<string, Record<string, unknown>> };
  for (const [p, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops)) {
      const url = p.replace(/\{\*\}/g, '*').replace(/\{([^}]+)\}/g, ':$1');
      t.ok(all.some((r) => r.method === method.toUpperCase() && r.url === url), `${method.toUpperCase()} ${url} is in the auth table`);
    }
  }
  t.ok(all.length >= 30, `${all.length} routes registered`);

  const publicRoutes = all.filter((r) => r.auth === 'public');
  for (const r of publicRoutes) {
    t.ok(PUBLIC_ROUTES.some((re) => re.test(r.url)), `${r.method} ${r.url} is public: it must be on the known list (health, metrics, docs, openapi.json, /pki/*)`);
  }
  for (const r of all.filter((r) => r.auth !== 'public')) {
    t.ok((SCOPES as readonly string[]).includes(r.auth), `${r.method} ${r.url} requires a known scope (${r.auth})`);
  }

  // Every route has a request an allowed caller must get a 2xx for; the catalogue names no route that is gone.
  const key = (r: { method: string; url: string }) => `${r.method === 'HEAD' ? 'GET' : r.method} ${r.url}`;
  const exercised = all.filter((r) => r.method !== 'OPTIONS');
  t.same(exercised.filter((r) => !VALID_REQUESTS[key(r)]).map((r) => `${r.method} ${r.url}`), [], 'every route has an entry in VALID_REQUESTS (test/reliability/route-catalogue.ts)');
  t.same(Object.keys(VALID_REQUESTS).filter((k) => !all.some((r) => `${r.method} ${r.url}` === k)), [], 'every entry of VALID_REQUESTS is a registered route');

  const callers = ['none', 'malformed', 'revoked', 'expired', ...SCOPES] as const;
  let checked = 0;
  let succeeded = 0;
  const failures: string[] = [];
  for (const r of exercised) {
    const entry = VALID_REQUESTS[key(r)];
    if (!entry) continue;
    for (const caller of callers) {
      const secret = caller === 'none' ? undefined : keys[caller];
      const authorization: Record<string, string> = secret ? { authorization: `Bearer ${secret}` } : {};
      let expected: number | '401' | '403';
      if (r.auth === 'public' || caller === r.auth || caller === 'admin') expected = 0;
      else if (caller === 'none' || caller === 'malformed' || caller === 'revoked' || caller === 'expired') expected = '401';
      else expected = '403';
      let res: Awaited<ReturnType<typeof h.app.inject>>;
      if (expected === 0) {
        // An allowed caller sends a request the route accepts: it must get exactly the 2xx the catalogue names.
        const call = await entry(fixture);
        expected = call.expect;
        const payload = call.payload === undefined || Buffer.isBuffer(call.payload) || typeof call.payload === 'string' ? call.payload : JSON.stringify(call.payload);
        res = await h.app.inject({
          method: r.method as 'GET',
          url: call.url,
          headers: { ...authorization, ...(call.payload !== undefined && !call.headers?.['content-type'] ? { 'content-type': 'application/json' } : {}), ...call.headers },
          ...(payload === undefined ? {} : { payload }),
        });
        await call.after?.();
        if (res.statusCode === expected) succeeded++;
        else failures.push(`${r.method} ${r.url} as ${caller}: expected ${expected}, got ${res.statusCode} ${res.body.slice(0, 300)}`);
      } else {
        // Refused callers are refused before anything looks at the request: placeholders do.
        const url = concretePath(r.url, 'x');
        const bodyless = r.method === 'GET' || r.method === 'HEAD' || r.method === 'DELETE';
        res = await h.app.inject({ method: r.method as 'GET', url, headers: { ...authorization, ...(bodyless ? {} : { 'content-type': 'application/json' }) }, ...(bodyless ? {} : { payload: '{}' }) });
        if (String(res.statusCode) !== expected) failures.push(`${r.method} ${r.url} as ${caller}: expected ${expected}, got ${res.statusCode} ${res.body.slice(0, 200)}`);
      }
      checked++;
      if (res.statusCode >= 500) failures.push(`${r.method} ${r.url} as ${caller}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      if (res.statusCode === 401 && !/^Bearer realm=/.test(String(res.headers['www-authenticate']))) failures.push(`${r.method} ${r.url}: 401 without WWW-Authenticate`);
      if (res.statusCode === 401 || res.statusCode === 403) {
        if (!String(res.headers['content-type']).startsWith('application/problem+json') && r.method !== 'HEAD') failures.push(`${r.method} ${r.url}: ${res.statusCode} is not problem+json`);
      }
    }
  }
  t.same(failures, [], `${checked} requests (${exercised.length} routes × ${callers.length} callers) answered as config.auth says: 401/403 exactly for refused callers, the catalogue's 2xx for allowed ones`);
  t.comment(`access matrix: ${exercised.length} routes, ${callers.length} callers, ${checked} requests, ${succeeded} of them allowed and answered 2xx`);
});

t.test('a route without an auth decision stops the app from starting', async (t) => {
  const { default: Fastify } = await import('fastify');
  const { default: auth } = await import('../../src/plugins/auth.js');
  const app = Fastify();
  await app.register(auth, { ctx: {} as never });
  t.throws(() => app.get('/v1/forgotten', async () => ({})), /no auth decision/);
  await app.close();
});
