import t from 'tap';
import { SCOPES } from '../../src/services/scopes.js';
import { testApp } from '../support/app.js';
import { PUBLIC_ROUTES, concretePath, makeKeys, routes } from './route-catalogue.js';

t.test('every registered route × every kind of caller gets the answer its config.auth promises', async (t) => {
  const h = await testApp(t, { RATE_LIMIT_MAX: '0' });
  const all = routes(h.app);
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

  const callers = ['none', 'malformed', 'revoked', 'expired', ...SCOPES] as const;
  let checked = 0;
  const failures: string[] = [];
  for (const r of all) {
    if (r.method === 'OPTIONS') continue;
    const url = concretePath(r.url, 'x');
    for (const caller of callers) {
      const secret = caller === 'none' ? undefined : keys[caller];
      const res = await h.app.inject({
        method: r.method as 'GET',
        url,
        headers: { ...(secret ? { authorization: `Bearer ${secret}` } : {}), ...(r.method === 'GET' || r.method === 'HEAD' || r.method === 'DELETE' ? {} : { 'content-type': 'application/json' }) },
        ...(r.method === 'GET' || r.method === 'HEAD' || r.method === 'DELETE' ? {} : { payload: '{}' }),
      });
      checked++;
      let expected: string;
      if (r.auth === 'public') expected = 'allowed';
      else if (caller === 'none' || caller === 'malformed' || caller === 'revoked' || caller === 'expired') expected = '401';
      else if (caller === r.auth || caller === 'admin') expected = 'allowed';
      else expected = '403';
      const got = res.statusCode === 401 || res.statusCode === 403 ? String(res.statusCode) : 'allowed';
      if (got !== expected) failures.push(`${r.method} ${r.url} as ${caller}: expected ${expected}, got ${res.statusCode}`);
      if (res.statusCode >= 500 && res.statusCode !== 503) failures.push(`${r.method} ${r.url} as ${caller}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      if (res.statusCode === 401 && !/^Bearer realm=/.test(String(res.headers['www-authenticate']))) failures.push(`${r.method} ${r.url}: 401 without WWW-Authenticate`);
      if (res.statusCode === 401 || res.statusCode === 403) {
        if (!String(res.headers['content-type']).startsWith('application/problem+json') && r.method !== 'HEAD') failures.push(`${r.method} ${r.url}: ${res.statusCode} is not problem+json`);
      }
    }
  }
  t.same(failures, [], `${checked} requests (${all.length} routes × ${callers.length} callers) answered as config.auth says`);
  t.comment(`access matrix: ${all.length} routes, ${callers.length} callers, ${checked} requests`);
});

t.test('a route without an auth decision stops the app from starting', async (t) => {
  const { default: Fastify } = await import('fastify');
  const { default: auth } = await import('../../src/plugins/auth.js');
  const app = Fastify();
  await app.register(auth, { ctx: {} as never });
  t.throws(() => app.get('/v1/forgotten', async () => ({})), /no auth decision/);
  await app.close();
});
