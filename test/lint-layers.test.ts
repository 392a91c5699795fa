import { ESLint } from 'eslint';
import t from 'tap';

/** The layer rules in eslint.config.js fire on a deliberate violation in each guarded folder. */
const eslint = new ESLint({ cwd: new URL('..', import.meta.url).pathname });

async function ruleIds(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

const cases: [string, string, boolean][] = [
  ['src/domain/x.ts', "import { openDatabase } from '../db/connection.js'; export const x = openDatabase;", true],
  ['src/domain/x.ts', "import { readFileSync } from 'node:fs'; export const x = readFileSync;", true],
  ['src/domain/x.ts', "import pg from 'pg'; export const x = pg;", true],
  ['src/domain/x.ts', "import { Temporal } from 'temporal-polyfill'; export const x = Temporal;", false],
  ['src/domain/x.ts', "import holidays from '@holiday-jp/holiday_jp'; export const x = holidays;", false],
  ['src/domain/x.ts', "import { z } from './dates.js'; export const x = z;", false],
  // Every Fastify package, not only the one named fastify.
  ['src/domain/x.ts', "import fastify from 'fastify'; export const x = fastify;", true],
  ['src/domain/x.ts', "import fp from 'fastify-plugin'; export const x = fp;", true],
  ['src/domain/x.ts', "import helmet from '@fastify/helmet'; export const x = helmet;", true],
  ['src/domain/x.ts', "import type { Static } from '@fastify/type-provider-typebox'; export type X = Static<never>;", true],
  // Any Node module, bare or with node:, and I/O packages.
  ['src/domain/x.ts', "import https from 'node:https'; export const x = https;", true],
  ['src/domain/x.ts', "import dns from 'dns'; export const x = dns;", true],
  ['src/domain/x.ts', "import { resolve4 } from 'node:dns/promises'; export const x = resolve4;", true],
  ['src/domain/x.ts', "import tls from 'node:tls'; export const x = tls;", true],
  ['src/domain/x.ts', "import { Worker } from 'worker_threads'; export const x = Worker;", true],
  ['src/domain/x.ts', "import { hostname } from 'node:os'; export const x = hostname;", true],
  ['src/domain/x.ts', "import { randomUUID } from 'node:crypto'; export const x = randomUUID;", true],
  ['src/domain/x.ts', "import { fetch } from 'undici'; export const x = fetch;", true],
  ['src/domain/x.ts', "import { PGlite } from '@electric-sql/pglite'; export const x = PGlite;", true],
  ['src/pki/x.ts', "import { createHash } from 'node:crypto'; export const x = createHash;", false],
  ['src/pki/x.ts', "import https from 'node:https'; export const x = https;", true],
  ['src/pki/x.ts', "import { lookup } from 'dns'; export const x = lookup;", true],
  ['src/pki/x.ts', "import { connect } from 'node:tls'; export const x = connect;", true],
  ['src/pki/x.ts', "import { Worker } from 'node:worker_threads'; export const x = Worker;", true],
  ['src/pki/x.ts', "import { request } from 'undici'; export const x = request;", true],
  ['src/pki/x.ts', "import fp from 'fastify-plugin'; export const x = fp;", true],
  ['src/db/x.ts', "import fp from 'fastify-plugin'; export const x = fp;", true],
  ['src/db/x.ts', "import swagger from '@fastify/swagger'; export const x = swagger;", true],
  ['src/db/x.ts', "import pg from 'pg'; export const x = pg;", false],
  ['src/services/x.ts', "import rateLimit from '@fastify/rate-limit'; export const x = rateLimit;", true],
  ['src/services/x.ts', "import type { FastifyRequest } from 'fastify'; export type X = FastifyRequest;", true],
  ['src/services/x.ts', "import { sql } from 'kysely'; export const x = sql;", false],
  ['src/routes/x.ts', "import { KyselyPGlite } from 'kysely-pglite-dialect'; export const x = KyselyPGlite;", true],
  ['src/routes/x.ts', "import { PGlite } from '@electric-sql/pglite'; export const x = PGlite;", true],
  ['src/pki/x.ts', "import { sql } from 'kysely'; export const x = sql;", true],
  ['src/pki/x.ts', "import * as repo from '../db/repositories/audit-log.js'; export const x = repo;", true],
  ['src/db/x.ts', "import { readiness } from '../services/health.js'; export const x = readiness;", true],
  ['src/services/x.ts', "import ops from '../routes/operations.js'; export const x = ops;", true],
  ['src/routes/x.ts', "import { sql } from 'kysely'; export const x = sql;", true],
  ['src/routes/x.ts', "import * as repo from '../db/repositories/audit-log.js'; export const x = repo;", true],
  ['src/routes/x.ts', "import { readiness } from '../services/health.js'; export const x = readiness;", false],
];

for (const [file, code, violates] of cases) {
  t.test(`${file}: ${code.split(';')[0]}`, async (t) => {
    const ids = await ruleIds(file, code);
    t.equal(ids.includes('no-restricted-imports'), violates, violates ? 'the layer rule fires' : 'allowed');
  });
}

t.test('Date.now() outside the clock is refused', async (t) => {
  t.ok((await ruleIds('src/services/x.ts', 'export const x = Date.now();')).includes('no-restricted-syntax'));
});
