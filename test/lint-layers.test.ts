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
