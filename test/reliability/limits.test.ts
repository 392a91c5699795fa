import { connect } from 'node:net';
import t from 'tap';
import { ADMIN_KEY, testApp } from '../support/app.js';
import { lifecycle } from '../support/lifecycle.js';
import { dbFingerprint } from './db-fingerprint.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

t.test('oversized bodies get 413 problem+json and change nothing', async (t) => {
  const h = await testApp(t, { BODY_LIMIT_BYTES: '65536' });
  const before = await dbFingerprint(h.app.ctx.db);
  for (const url of ['/v1/fees/quote', '/v1/resident-events', '/v1/api-keys', '/v1/certificates/verify']) {
    const res = await h.request({ method: 'POST', url, headers: JSON_HEADERS, payload: JSON.stringify({ pad: 'x'.repeat(70_000) }) });
    t.equal(res.statusCode, 413, `${url}: 413`);
    t.match(res.headers['content-type'], /application\/problem\+json/);
    t.match(res.json(), { status: 413, type: /payloadTooLarge/ });
  }
  const ocsp = await h.request({ method: 'POST', url: '/pki/signature/ocsp', auth: null, headers: { 'content-type': 'application/ocsp-request' }, payload: Buffer.alloc(200_000, 0x30) });
  t.equal(ocsp.statusCode, 413, 'an oversized OCSP request: 413');
  t.same(await dbFingerprint(h.app.ctx.db), before, 'database unchanged');
});

t.test('a slow-loris body is cut off after REQUEST_TIMEOUT_MS and the service keeps answering', async (t) => {
  const h = await testApp(t, { REQUEST_TIMEOUT_MS: '1500' });
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = h.app.server.address() as { port: number };
  const started = Date.now();
  const outcome = await new Promise<{ response: string; ms: number }>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(`POST /v1/pins/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_KEY}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`);
      timer = setInterval(() => socket.write(' '), 200);
    });
    socket.on('data', (d) => (response += d.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ response, ms: Date.now() - started });
    });
    setTimeout(() => socket.destroy(), 15_000);
  });
  t.ok(outcome.ms < 8000, `disconnected after ${outcome.ms} ms (timeout 1500 ms; Node checks every ${Math.ceil(1500 / 4)} ms)`);
  t.match(outcome.response, /^HTTP\/1\.1 408/, `answered 408 Request Timeout (${JSON.stringify(outcome.response.slice(0, 80))})`);
  const live = await fetch(`http://127.0.0.1:${port}/health/live`);
  t.equal(live.status, 200, 'still serving');
});

t.test('malformed DER for CSR, OCSP and verify is refused, never 500', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  await s.setClock('2026-01-15T10:00:00+09:00');
  await s.register('R-DER-1', { name: '新宿 検査', address: '東京都新宿区四谷1-1', dateOfBirth: '1990-05-20', sex: 'male' });
  const { card } = await s.card('R-DER-1', '2026-01-15', '2026-01-15T09:30:00+09:00');
  const before = await dbFingerprint(h.app.ctx.db);
  const garbage = [
    Buffer.alloc(0), Buffer.from([0x30]), Buffer.from([0x30, 0x82, 0xff, 0xff]), Buffer.from([0x30, 0x80, 0x00, 0x00]),
    Buffer.from([0x30, 0x03, 0x02, 0x01]), Buffer.from('30030201ff', 'hex'), Buffer.alloc(4096, 0x30), Buffer.from('not der at all'),
    // A valid SEQUENCE nesting 2000 levels deep.
    Buffer.concat([...Array.from({ length: 2000 }, () => Buffer.from([0x30, 0x80])), Buffer.alloc(4000, 0)]),
  ];
  const pem = (label: string, b: Buffer) => `-----BEGIN ${label}-----\n${b.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END ${label}-----\n`;
  let sent = 0;
  for (const der of garbage) {
    for (const ca of ['signature', 'userAuthentication']) {
      const post = await h.request({ method: 'POST', url: `/pki/${ca}/ocsp`, auth: null, headers: { 'content-type': 'application/ocsp-request' }, payload: der });
      const get = await h.request({ method: 'GET', url: `/pki/${ca}/ocsp/${encodeURIComponent(der.toString('base64'))}`, auth: null });
      for (const r of [post, get]) {
        sent++;
        t.ok(r.statusCode < 500, `OCSP ${der.length} bytes: ${r.statusCode}`);
        if (r.statusCode === 200) t.equal(r.headers['content-type'], 'application/ocsp-response', 'an OCSP-level error (malformedRequest)');
      }
    }
    const verify = await h.request({ method: 'POST', url: '/v1/certificates/verify', payload: { pem: pem('CERTIFICATE', der) } });
    sent++;
    t.ok(verify.statusCode < 500 && verify.statusCode !== 201, `verify: ${verify.statusCode}`);
    const csr = await h.request({
      method: 'POST', url: `/v1/cards/${card.cardId}/certificates`,
      payload: { kind: 'userAuthentication', officeId: 'main', receivedAt: '2026-01-15T10:00:00+09:00', applicant: { type: 'self' }, csr: pem('CERTIFICATE REQUEST', der) },
    });
    sent++;
    t.ok(csr.statusCode >= 400 && csr.statusCode < 500, `CSR: ${csr.statusCode}`);
    t.notMatch(csr.body, /\n\s+at |\.ts:\d+/, 'no stack');
  }
  t.same(await dbFingerprint(h.app.ctx.db), before, 'database unchanged');
  t.comment(`malformed DER: ${sent} requests, none 5xx`);
});
