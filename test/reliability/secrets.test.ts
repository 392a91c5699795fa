import t from 'tap';
import { DEV_CA_KEY_PASSPHRASE } from '../../src/config.js';
import { ADMIN_KEY, testApp } from '../support/app.js';
import { lifecycle } from '../support/lifecycle.js';

const NAME = '秘密 花子';
const NEW_NAME = '秘密 桜子';
const ADDRESS = '東京都新宿区西新宿二丁目8番1号 都庁前マンション101';
const NEW_ADDRESS = '東京都新宿区歌舞伎町一丁目4番1号 区役所裏202';
const SIGNATURE_PIN = 'ZX81QW77';
const FOUR_DIGIT_PIN = '9372';

t.test('a full scenario logged at trace level leaks no PIN, private key, API key, name, address or passphrase', async (t) => {
  const h = await testApp(t, { LOG_LEVEL: 'trace' });
  const s = lifecycle(h);
  await s.setClock('2026-01-15T10:00:00+09:00');
  await s.register('R-SECRET-1', { name: NAME, address: ADDRESS, dateOfBirth: '1990-05-20', sex: 'female' });
  const { card } = await s.card('R-SECRET-1', '2026-01-15', '2026-01-15T09:30:00+09:00');
  const ua = await s.issue(card.cardId, 'userAuthentication', '2026-01-15T10:00:00+09:00');
  const sig = await s.issue(card.cardId, 'signature', '2026-01-15T10:00:00+09:00');
  t.match(sig.privateKeyPem, /BEGIN PRIVATE KEY/);
  await s.event('R-SECRET-1', 'nameChanged', '2026-01-15T10:00:00+09:00', { name: NEW_NAME });
  await s.event('R-SECRET-1', 'addressChanged', '2026-01-15T10:00:00+09:00', { address: NEW_ADDRESS });
  for (const [pinKind, pin] of [['signature', SIGNATURE_PIN], ['userAuthentication', FOUR_DIGIT_PIN]]) {
    const r = await h.request({ method: 'POST', url: '/v1/pins/check', payload: { pinKind, pin } });
    t.equal(r.statusCode, 200);
    t.notMatch(r.body, pin, 'the PIN is not echoed');
  }
  // Refused requests carrying secrets are logged too: they must not carry the secrets with them.
  await h.request({ method: 'POST', url: '/v1/pins/check', payload: { pinKind: 'signature', pin: SIGNATURE_PIN, extra: ADDRESS } });
  await h.request({ method: 'POST', url: '/v1/resident-events', payload: { eventId: 'e-bad', residentCode: 'R-SECRET-1', type: 'nameChanged', effectiveAt: 'nope', data: { name: NAME } } });
  const created = await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'log scan', scopes: ['status:read'] } });
  const apiKey = created.json().secret as string;
  t.match(apiKey, /^jpw_/);
  await h.request({ method: 'GET', url: `/v1/certificates/${ua.certificate.serial}`, auth: apiKey });
  await h.request({ method: 'GET', url: '/v1/audit-events', auth: 'jpw_wrong_key_that_does_not_exist_000000' });
  await h.request({ method: 'GET', url: '/v1/residents/R-SECRET-1', headers: { cookie: `session=${apiKey}` } });

  const logs = h.logs();
  t.ok(logs.length > 1000, `${logs.length} bytes of log to scan`);
  const keyBody = (sig.privateKeyPem as string).split('\n').filter((l) => l && !l.startsWith('-----'));
  const secrets: [string, string][] = [
    ['signature PIN', SIGNATURE_PIN], ['4-digit PIN', `"${FOUR_DIGIT_PIN}"`],
    ['private key', 'PRIVATE KEY'], ...keyBody.slice(0, 3).map((l, i): [string, string] => [`private key line ${i}`, l]),
    ['new API key', apiKey], ['admin API key', ADMIN_KEY], ['wrong API key', 'jpw_wrong_key_that_does_not_exist'],
    ['CA passphrase', DEV_CA_KEY_PASSPHRASE],
    ['name', NAME], ['new name', NEW_NAME], ['address', ADDRESS], ['new address', NEW_ADDRESS], ['address part', '都庁前マンション'],
  ];
  for (const [what, value] of secrets) t.notOk(logs.includes(value), `no ${what} in the log`);
  t.comment(`log scan: ${logs.split('\n').length} lines, ${secrets.length} secrets looked for, none found`);
});

t.test('CORS is off by default: no Access-Control-Allow-Origin, preflight not answered', async (t) => {
  const h = await testApp(t);
  const get = await h.request({ method: 'GET', url: '/v1/offices', headers: { origin: 'https://evil.example' } });
  t.equal(get.statusCode, 200);
  t.notOk(get.headers['access-control-allow-origin'], 'no ACAO on a read');
  t.notOk(get.headers['access-control-allow-credentials']);
  const preflight = await h.request({ method: 'OPTIONS', url: '/v1/api-keys', auth: null, headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
  t.notOk(preflight.headers['access-control-allow-origin'], 'no ACAO on a preflight');
  t.notOk(preflight.headers['access-control-allow-methods']);
  t.ok(preflight.statusCode >= 400, `preflight refused (${preflight.statusCode})`);
});

t.test('CORS_ORIGINS: an allowed origin gets Access-Control-Allow-Origin and its preflight; another origin neither', async (t) => {
  const allowed = 'https://portal.ward.example.jp';
  const h = await testApp(t, { CORS_ORIGINS: ` ${allowed}, http://localhost:8080 ` });
  const read = await h.request({ method: 'GET', url: '/v1/offices', headers: { origin: allowed } });
  t.equal(read.statusCode, 200);
  t.equal(read.headers['access-control-allow-origin'], allowed, 'the allowed origin is named, not *');
  t.match(read.headers.vary, /Origin/);
  t.match(read.headers['access-control-expose-headers'], /ETag/);
  t.notOk(read.headers['access-control-allow-credentials'], 'no credentials');
  // Browsers send no Authorization header on a preflight: it is answered before authentication.
  const preflight = await h.request({ method: 'OPTIONS', url: '/v1/api-keys', auth: null, headers: { origin: allowed, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
  t.equal(preflight.statusCode, 204, 'preflight answered');
  t.equal(preflight.headers['access-control-allow-origin'], allowed);
  t.match(preflight.headers['access-control-allow-methods'], /POST/);
  t.match(preflight.headers['access-control-allow-headers'], /Authorization/);
  const unauthenticated = await h.request({ method: 'GET', url: '/v1/offices', auth: null, headers: { origin: allowed } });
  t.equal(unauthenticated.statusCode, 401, 'CORS lets the browser read answers; it does not stand in for a key');

  for (const origin of ['https://evil.example', 'https://portal.ward.example.jp.evil.example', `${allowed}/`, 'null']) {
    const get = await h.request({ method: 'GET', url: '/v1/offices', headers: { origin } });
    t.equal(get.statusCode, 200);
    t.notOk(get.headers['access-control-allow-origin'], `${origin}: no ACAO on a read`);
    const other = await h.request({ method: 'OPTIONS', url: '/v1/api-keys', auth: null, headers: { origin, 'access-control-request-method': 'POST' } });
    t.notOk(other.headers['access-control-allow-origin'], `${origin}: no ACAO on a preflight`);
    t.notOk(other.headers['access-control-allow-methods']);
    t.ok(other.statusCode >= 400, `${origin}: preflight refused (${other.statusCode})`);
  }
});

t.test('security headers on API answers, problems and public PKI files', async (t) => {
  const h = await testApp(t);
  const answers = [
    await h.request({ method: 'GET', url: '/v1/offices' }),
    await h.request({ method: 'GET', url: '/v1/offices', auth: null }),
    await h.request({ method: 'GET', url: '/health/live', auth: null }),
    await h.request({ method: 'GET', url: '/pki/signature/ca.crt', auth: null }),
    await h.request({ method: 'GET', url: '/no/such/route', auth: null }),
  ];
  for (const r of answers) {
    t.equal(r.headers['x-content-type-options'], 'nosniff', `${r.statusCode}: nosniff`);
    t.match(r.headers['content-security-policy'], /frame-ancestors 'none'/, `${r.statusCode}: CSP`);
    t.match(r.headers['strict-transport-security'], /max-age=\d+/, `${r.statusCode}: HSTS`);
    t.ok(r.headers['x-frame-options'], `${r.statusCode}: X-Frame-Options`);
    t.equal(r.headers['x-powered-by'], undefined, 'no X-Powered-By');
    t.ok(r.headers['x-request-id'], 'request id returned');
  }
});
