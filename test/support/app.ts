import { Writable } from 'node:stream';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Test } from 'tap';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createTestDatabase } from './database.js';

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

/** The whole service on a fresh database of its own, closed and dropped when the test ends. */
export async function testApp(t: Test, env: Record<string, string> = {}): Promise<TestApp> {
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
  const logStream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const app = await buildApp(config, { logStream });
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
