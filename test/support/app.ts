import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Test } from 'tap';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createTestDatabase } from './database.js';
import { recordSecrets, runLogStream, secretsIn } from './run-log.js';

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  databaseUrl: string;
  /** Every log line the app wrote, as text. */
  logs(): string;
  /** inject() with the admin key unless `auth` says otherwise (null: no key). */
  request(opts: InjectOptions & { auth?: string | null }): Promise<LightMyRequestResponse>;
}

/**
 * inject() that also records the PINs, names and addresses a test sends and the API key secrets and
 * private keys it gets back, for the scan of the whole run's log (test/support/run-log.ts).
 */
function recordingInjects(app: FastifyInstance): void {
  const inject = app.inject.bind(app) as (opts?: unknown, callback?: unknown) => unknown;
  const received = (res: LightMyRequestResponse) => {
    const body = res.body;
    if (body.includes('"secret"') || body.includes('"privateKeyPem"')) recordSecrets(secretsIn(body).filter(([kind]) => kind === 'API key secret' || kind === 'private key'));
    return res;
  };
  (app as { inject: unknown }).inject = (opts?: unknown, callback?: unknown) => {
    if (opts === null || typeof opts !== 'object' || callback !== undefined) return inject(opts, callback);
    const { payload, body } = opts as { payload?: unknown; body?: unknown };
    const sent = payload ?? body;
    if (sent !== undefined && !Buffer.isBuffer(sent)) recordSecrets(secretsIn(sent));
    return (inject(opts) as Promise<LightMyRequestResponse>).then(received);
  };
}

/**
 * The whole service on a fresh database of its own, closed and dropped when the test ends. Its log
 * is kept for the test (logs()) and for the scan of the whole run; `recordSecrets: false` leaves
 * what it sends out of that scan (the fuzzer: its hostile values land in URLs and logs on purpose).
 */
export async function testApp(t: Test, env: Record<string, string> = {}, options: { recordSecrets?: boolean } = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: database.url,
    ADMIN_API_KEY: ADMIN_KEY,
    CLOCK_CONTROL: 'enabled',
    // Test files run in parallel on two cores: event-loop lag is expected, load shedding is tested on its own.
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...env,
  });
  const chunks: string[] = [];
  const app = await buildApp(config, { logStream: runLogStream('app', chunks) });
  if (options.recordSecrets !== false) recordingInjects(app);
  await app.ready();
  t.teardown(async () => {
    await app.close();
    await database.drop();
  });
  return {
    app,
    config,
    databaseUrl: database.url,
    logs: () => chunks.join(''),
    request: ({ auth, headers, ...opts }) => {
      const key = auth === undefined ? ADMIN_KEY : auth;
      return app.inject({ ...opts, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers } });
    },
  };
}
