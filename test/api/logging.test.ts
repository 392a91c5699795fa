import t from 'tap';
import { redact } from '../../src/logger.js';
import { testApp } from '../support/app.js';

t.test('PINs, addresses, names and API keys never reach the log', async (t) => {
  const h = await testApp(t, { LOG_LEVEL: 'trace' });
  const pin = 'AB12CD34';
  const address = '東京都新宿区歌舞伎町1-4-1';
  await h.request({ method: 'POST', url: '/v1/api-keys', payload: { name: '山田太郎', scopes: ['admin'], pin, address } });
  h.app.log.info({ resident: { name: '山田太郎', address, card: { pin } }, cards: [{ pin }] }, 'a careless log call');
  const logs = h.logs();
  t.match(logs, /a careless log call/);
  t.notMatch(logs, pin);
  t.notMatch(logs, address);
  t.notMatch(logs, '山田太郎');
  t.notMatch(logs, 'test-admin-key', 'the bearer token is not logged');
});

t.test('redact() works at any depth and leaves other fields', async (t) => {
  t.same(redact({ a: 1, nested: { deeper: [{ PIN: '1234', ok: 'x' }] } }), { a: 1, nested: { deeper: [{ PIN: '[REDACTED]', ok: 'x' }] } });
});
