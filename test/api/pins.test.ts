import t from 'tap';
import { testApp } from '../support/app.js';

const SECRET_PINS = ['AB12CD', 'ZZ9PLURALZALPHA9', 'Q7Q7Q7Q7', '4321', '0815', 'x9y8z7w6', 'あいう1234'];

t.test('PIN formats and lock counts', async (t) => {
  const h = await testApp(t);
  const check = async (pinKind: string, pin: string) => {
    const res = await h.request({ method: 'POST', url: '/v1/pins/check', payload: { pinKind, pin } });
    t.equal(res.statusCode, 200);
    t.equal(res.headers['cache-control'], 'no-store');
    return res.json();
  };
  t.same(await check('signature', 'AB12CD'), { valid: true, problems: [], lockAfterFailures: 5 });
  t.same(await check('signature', 'ab12cd'), { valid: true, problems: [], lockAfterFailures: 5 }, 'lower case is taken as upper case');
  t.same((await check('signature', 'AB1')).problems, ['tooShort']);
  t.same((await check('signature', 'ABCDEFGHIJKLMNOP1')).problems, ['tooLong']);
  t.same((await check('signature', 'ABCDEFG')).problems, ['digitRequired']);
  t.same((await check('signature', '1234567')).problems, ['letterRequired']);
  t.same((await check('signature', 'AB12-CD')).problems, ['invalidCharacter']);
  t.same((await check('signature', '')).problems, ['tooShort', 'letterRequired', 'digitRequired']);
  for (const kind of ['userAuthentication', 'formAssist', 'residentRegistry']) {
    t.same(await check(kind, '4321'), { valid: true, problems: [], lockAfterFailures: 3 }, `${kind}: 4 digits`);
    t.same((await check(kind, '432')).problems, ['tooShort']);
    t.same((await check(kind, '43210')).problems, ['tooLong']);
    t.same((await check(kind, '43a1')).problems, ['invalidCharacter']);
  }
  const readKey = (await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: 'reader', scopes: ['status:read'] } })).json().secret;
  t.equal((await h.request({ method: 'POST', url: '/v1/pins/check', auth: readKey, payload: { pinKind: 'formAssist', pin: '1234' } })).statusCode, 200);
  t.equal((await h.request({ method: 'POST', url: '/v1/pins/check', auth: null, payload: { pinKind: 'formAssist', pin: '1234' } })).statusCode, 401);
});

t.test('a PIN never appears in responses, logs or storage, valid or not, even in refusals', async (t) => {
  const h = await testApp(t, { LOG_LEVEL: 'trace' });
  const bodies: string[] = [];
  for (const pin of SECRET_PINS) {
    for (const pinKind of ['signature', 'userAuthentication']) {
      bodies.push((await h.request({ method: 'POST', url: '/v1/pins/check', payload: { pinKind, pin } })).body);
      // A PIN inside an array is a wrong type (bodies are not coerced): refused, and not echoed either.
      bodies.push((await h.request({ method: 'POST', url: '/v1/pins/check', payload: { pinKind, pin: [pin] } })).body);
    }
    const refusals = [
      await h.request({ method: 'POST', url: '/v1/pins/check', payload: { pinKind: 'bankCard', pin } }),
      await h.request({ method: 'POST', url: '/v1/pins/check', payload: { pinKind: 'signature', pin, again: pin } }),
      await h.request({ method: 'POST', url: '/v1/pins/check', payload: { pinKind: 'signature', pin: pin.repeat(70) } }),
      await h.request({ method: 'POST', url: '/v1/pins/check', headers: { 'content-type': 'application/json' }, payload: `{"pinKind":"signature","pin": ${pin}}` }),
      await h.request({ method: 'POST', url: '/v1/pins/check', headers: { 'content-type': 'application/json' }, payload: `{"pinKind":"signature","pin":"${pin}"` }),
      await h.request({ method: 'POST', url: '/v1/pins/check', headers: { 'content-type': 'text/plain' }, payload: pin }),
    ];
    for (const res of refusals) {
      t.ok(res.statusCode < 500, `answered ${res.statusCode}, not a server error`);
      bodies.push(res.body);
    }
  }
  // Request ids, times and durations are random digits: a 4-digit PIN can turn up inside one by chance,
  // so they are left out of log lines and answers before searching; every other field is searched.
  const RANDOM = new Set(['reqId', 'requestId', 'time', 'responseTime', 'pid', 'hostname']);
  const withoutRandom = (text: string) => {
    try {
      return JSON.stringify(JSON.parse(text), (key, value) => (RANDOM.has(key) ? undefined : value));
    } catch {
      return text;
    }
  };
  const logs = h.logs().split('\n').filter(Boolean).map(withoutRandom).join('\n');
  bodies.splice(0, bodies.length, ...bodies.map(withoutRandom));
  t.ok(logs.includes('/v1/pins/check'), 'the requests were logged');
  for (const pin of SECRET_PINS) {
    t.notOk(bodies.some((b) => b.includes(pin) || b.includes(pin.toUpperCase())), `${pin} is not echoed`);
    t.notOk(logs.includes(pin) || logs.includes(pin.toUpperCase()), `${pin} is not logged`);
  }
  const audit = await h.app.ctx.db.selectFrom('audit_log').selectAll().execute();
  t.notOk(SECRET_PINS.some((pin) => JSON.stringify(audit).includes(pin)), 'nothing about PINs is stored');
  const idempotency = await h.app.ctx.db.selectFrom('idempotency_keys').selectAll().execute();
  t.same(idempotency, []);
});
