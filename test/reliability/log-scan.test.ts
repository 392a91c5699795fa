// The scan of the whole run's log (scripts/test.ts, test/support/log-scan.ts): it finds what was
// planted, names the file and the kind without the value, and the test support feeds it.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { DEV_CA_KEY_PASSPHRASE } from '../../src/config.js';
import { ADMIN_KEY, testApp } from '../support/app.js';
import { describeFindings, scanLogs, secretsInSources, secretsRecorded } from '../support/log-scan.js';
import { SENT_DIR, secretsIn } from '../support/run-log.js';

const root = path.resolve(import.meta.dirname, '../..');

t.test('the scanner finds a planted secret of each kind, naming file and kind, never the value', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'jpki-log-scan-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, SENT_DIR));
  // A long PIN inside a longer run of letters and digits (a serial, a request id) is not that PIN.
  const clean = '{"level":30,"time":1,"reqId":"req-ZX81QW7700","req":{"method":"GET","url":"/v1/certificates/0aZX81QW77f"},"msg":"incoming request","responseTime":9372}\n';
  writeFileSync(path.join(dir, 'app-1-1.log'), clean.repeat(50));
  const name = '秘密 花子';
  const recordedKey = 'jpw_recorded_at_run_time_0123456789abcdef';
  const planted: [string, string, string][] = [
    ['app-1-2.log', 'name', `{"level":30,"msg":"resident","data":{"n":"${name}"}}`],
    ['app-1-3.log', 'PIN', '{"level":30,"msg":"pin","value":"9372"}'],
    ['app-1-4.log', 'PIN', '{"level":30,"req":{"url":"/v1/pins/check?pin=ZX81QW77&x=1"}}'],
    ['service-2-1.log', 'admin key', `{"level":50,"msg":"bad header Bearer ${ADMIN_KEY}"}`],
    ['service-2-2.log', 'CA passphrase', `{"level":50,"msg":"passphrase ${DEV_CA_KEY_PASSPHRASE}"}`],
    ['service-2-3.log', 'private key', '-----BEGIN PRIVATE KEY-----'],
    ['service-2-4.log', 'API key secret', `{"level":30,"key":"${recordedKey}"}`],
  ];
  for (const [file, , line] of planted) writeFileSync(path.join(dir, file), `${clean}${line}\n${clean}`);
  // What a test app records as it runs, and a PIN sent too, which must be found only as a JSON string.
  writeFileSync(path.join(dir, SENT_DIR, '1.jsonl'), `${JSON.stringify(['API key secret', recordedKey])}\n`);

  const secrets = [...secretsInSources(path.join(root, 'test'), [path.join(root, 'src')]), ...secretsRecorded(dir)];
  t.ok(secrets.some((s) => s.kind === 'name' && s.value === name), 'names come from the test sources');
  t.ok(secrets.some((s) => s.kind === 'PIN' && s.value === '9372'), 'PINs too');
  t.ok(secrets.some((s) => s.kind === 'admin key' && s.value === ADMIN_KEY), 'and the admin key of test/support/app.ts');
  t.notOk(secrets.some((s) => s.value === '本庁舎1階 戸籍住民課'), 'an office name (the service’s own reference data) is not test data');

  const result = await scanLogs(dir, secrets);
  t.equal(result.files, 1 + planted.length, 'every log file read, not the record of sent values');
  t.same(
    result.findings.map((f) => [path.basename(f.file), f.kind, f.line]).sort(),
    planted.map(([file, kind]) => [file, kind, 2]).sort(),
    'each planted secret found, in its file, at its line; "responseTime":9372 is not the PIN "9372", nor a serial holding ZX81QW77 that PIN',
  );
  const report = describeFindings(result.findings).join('\n');
  for (const [, , line] of planted) t.notOk(report.includes(line), 'the report does not repeat the line');
  for (const value of [name, '9372', ADMIN_KEY, DEV_CA_KEY_PASSPHRASE, recordedKey]) t.notOk(report.includes(value), 'nor the secret');
  t.match(report, /name found in .*app-1-2\.log \(first at line 2\)/);
});

t.test('the values a test app sends and receives are recorded for the scan', async (t) => {
  t.same(secretsIn({ data: { name: '記録 太郎', address: '東京都新宿区記録1', alias: 'ab' } }), [['name', '記録 太郎'], ['address', '東京都新宿区記録1']], 'personal values (written in Japanese)');
  t.same(secretsIn({ name: 'counter terminal', scopes: ['admin'] }), [], 'not the ASCII label of an API key');
  t.same(secretsIn('{"pin":"ZX81QW77"}\n{"pinKind":"signature","pin":"12"}\n'), [['PIN', 'ZX81QW77']], 'NDJSON line by line; a PIN of 4 to 16 characters');
});

t.test('test apps write their log lines and what they send to the run’s log directory', { skip: process.env.TEST_LOG_DIR ? false : 'run through scripts/test.ts (npm test), which sets TEST_LOG_DIR' }, async (t) => {
  const dir = process.env.TEST_LOG_DIR!;
  const h = await testApp(t);
  const requestId = `log-scan-${process.pid}`;
  const name = `走査 ${process.pid}号`;
  const res = await h.request({
    method: 'POST', url: '/v1/resident-events', headers: { 'x-request-id': requestId },
    payload: { eventId: requestId, residentCode: 'R-SCAN-1', type: 'registered', effectiveAt: '2000-01-01T00:00:00+09:00', data: { name, address: '東京都新宿区走査1', dateOfBirth: '1990-01-01', sex: 'male' } },
  });
  t.equal(res.statusCode, 201);
  const logs = readdirSync(dir).filter((f) => f.startsWith(`app-${process.pid}-`)).map((f) => readFileSync(path.join(dir, f), 'utf8')).join('');
  t.match(logs, requestId, 'the request’s log lines are in the run’s log');
  t.notMatch(logs, name, 'without the name');
  const recorded = secretsRecorded(dir);
  t.ok(recorded.some((s) => s.kind === 'name' && s.value === name), 'the name it sent is recorded for the scan');
  t.ok(recorded.some((s) => s.kind === 'address' && s.value === '東京都新宿区走査1'), 'and the address');
});
