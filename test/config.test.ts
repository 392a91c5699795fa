import { spawnSync } from 'node:child_process';
import t from 'tap';
import { ConfigError, DEV_CA_KEY_PASSPHRASE, loadConfig } from '../src/config.js';

t.test('defaults', async (t) => {
  const c = loadConfig({});
  t.equal(c.port, 3000);
  t.equal(c.dataDir, './data');
  t.equal(c.databaseUrl, undefined);
  t.same(c.policy, {
    feb29BirthdayInCommonYear: '02-28', aliasChangeRevokesSignature: true, deadlineRollsToNextOpenDay: true,
    enforceOpeningHours: true, inquiryAnswerMonths: 1, inquiryCancelOnResidentChange: true, crlValidityHours: 24, ocspValidityHours: 96, batchMaxLines: 1_000_000,
  });
});

t.test('an invalid value names its variable', async (t) => {
  for (const [variable, value] of [['PORT', 'abc'], ['PORT', '99999'], ['LOG_LEVEL', 'loud'], ['DATABASE_URL', 'mysql://x'], ['ENFORCE_OPENING_HOURS', 'yes'], ['RESIDENT_CODE_PATTERN', '('], ['CORS_ORIGINS', '*'], ['CORS_ORIGINS', 'https://a.example/'], ['CORS_ORIGINS', 'https://a.example,portal']] as const) {
    const error = (() => {
      try {
        loadConfig({ [variable]: value });
      } catch (e) {
        return e;
      }
    })();
    t.ok(error instanceof ConfigError && error.variable === variable && error.message.includes(variable), `${variable}=${value}`);
  }
});

t.test('CORS_ORIGINS: empty by default (CORS off), else exact origins', async (t) => {
  t.same(loadConfig({}).corsOrigins, []);
  t.same(loadConfig({ CORS_ORIGINS: 'https://portal.example.jp, http://localhost:8080,http://[::1]:3000' }).corsOrigins, ['https://portal.example.jp', 'http://localhost:8080', 'http://[::1]:3000']);
});

t.test('production refuses development settings', async (t) => {
  const prod = { NODE_ENV: 'production', ADMIN_API_KEY: 'x'.repeat(32), CA_KEY_PASSPHRASE: 'a real passphrase here' };
  t.ok(loadConfig(prod));
  t.throws(() => loadConfig({ ...prod, CA_KEY_PASSPHRASE: DEV_CA_KEY_PASSPHRASE }), /CA_KEY_PASSPHRASE/);
  t.throws(() => loadConfig({ ...prod, CLOCK_CONTROL: 'enabled' }), /CLOCK_CONTROL/);
  t.throws(() => loadConfig({ ...prod, ADMIN_API_KEY: undefined }), /ADMIN_API_KEY/);
});

t.test('the server stops at start-up with a non-zero exit naming the variable', async (t) => {
  const res = spawnSync(process.execPath, ['--import=tsx', 'src/server.ts'], { env: { ...process.env, PORT: 'not-a-port' }, encoding: 'utf8', timeout: 60_000 });
  t.equal(res.status, 78);
  t.match(res.stderr, /Invalid setting PORT/);
});

t.test('WORKERS: 1 by default; above 1 needs PostgreSQL and no clock control', async (t) => {
  const pg = { DATABASE_URL: 'postgres://localhost/x' };
  t.equal(loadConfig({}).workers, 1);
  t.equal(loadConfig({ ...pg, WORKERS: '2' }).workers, 2);
  t.equal(loadConfig({ WORKERS: '1', CLOCK_CONTROL: 'enabled' }).workers, 1, 'one process: PGlite and clock control as ever');
  t.throws(() => loadConfig({ ...pg, WORKERS: '0' }), /WORKERS/);
  t.throws(() => loadConfig({ WORKERS: '2' }), { name: 'ConfigError', variable: 'WORKERS', message: /DATABASE_URL/ }, 'refused on embedded PGlite');
  t.throws(() => loadConfig({ ...pg, WORKERS: '2', CLOCK_CONTROL: 'enabled' }), { name: 'ConfigError', variable: 'WORKERS', message: /CLOCK_CONTROL/ }, 'refused with clock control');
  const res = spawnSync(process.execPath, ['--import=tsx', 'src/server.ts'], { env: { ...process.env, DATABASE_URL: '', WORKERS: '2' }, encoding: 'utf8', timeout: 60_000 });
  t.equal(res.status, 78, 'the server stops with exit 78');
  t.match(res.stderr, /Invalid setting WORKERS/);
});
