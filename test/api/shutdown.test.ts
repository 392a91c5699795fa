import t from 'tap';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_KEY } from '../support/app.js';
import { createTestDatabase } from '../support/database.js';

t.test('an in-flight request completes while the server closes', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const app = await buildApp(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: database.url, ADMIN_API_KEY: ADMIN_KEY, MAX_EVENT_LOOP_DELAY_MS: '0' }));
  let started!: () => void;
  const inFlight = new Promise<void>((resolve) => (started = resolve));
  app.get('/test/slow', { config: { auth: 'public' } }, async () => {
    started();
    await new Promise((r) => setTimeout(r, 800));
    // The database is still open for the request that was already running.
    const keys = await app.ctx.db.selectFrom('api_keys').select('key_id').execute();
    return { done: true, keys: keys.length };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const slow = fetch(`http://127.0.0.1:${port}/test/slow`);
  await inFlight;
  const closing = app.close();
  const res = await slow;
  t.equal(res.status, 200);
  t.same(await res.json(), { done: true, keys: 1 });
  await closing;
  await t.rejects(fetch(`http://127.0.0.1:${port}/health/live`), 'no new connections after close');
});
