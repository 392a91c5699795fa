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

t.test('every log line a request causes carries its request id, service lines included', async (t) => {
  const h = await testApp(t);
  const linesOf = async (requestId: string, inject: (headers: Record<string, string>) => Promise<{ statusCode: number }>, status: number) => {
    const mark = h.logs().length;
    const res = await inject({ 'x-request-id': requestId });
    t.equal(res.statusCode, status, requestId);
    return h.logs().slice(mark).trim().split('\n').map((line) => JSON.parse(line) as { reqId?: string; msg: string });
  };

  // CRLs published at start-up are due again years later: the consistency check regenerates them
  // in services/certificate-status.ts, which logs through the request's context.
  await h.request({ method: 'PUT', url: '/v1/clock', payload: { now: '2031-04-01T09:00:00+09:00' } });
  const crl = await linesOf('req-crl-log', (headers) => h.request({ method: 'GET', url: '/v1/pki/consistency?regenerate=true', headers }), 200);
  t.ok(crl.filter((l) => l.msg === 'CRL published').length >= 2, 'both CAs published');
  t.same(crl.filter((l) => l.reqId !== 'req-crl-log').map((l) => l.msg), [], 'every line carries the request id');

  const events = [1, 2, 3].map((i) => JSON.stringify({ eventId: `log-${i}`, residentCode: `L00${i}`, type: 'registered', effectiveAt: '2030-01-01T00:00:00+09:00', data: { name: '新宿 花子', address: '東京都新宿区西新宿2-8-1', dateOfBirth: '1990-05-20', sex: 'female' } }));
  const batch = await linesOf('req-batch-log', (headers) => h.request({
    method: 'POST', url: '/v1/resident-events/batch', headers: { ...headers, 'content-type': 'application/x-ndjson' }, payload: `${events.join('\n')}\n`,
  }), 200);
  t.ok(batch.some((l) => l.msg === 'resident event batch done'), 'the batch service logged');
  t.same(batch.filter((l) => l.reqId !== 'req-batch-log').map((l) => l.msg), [], 'every line carries the request id');
});
