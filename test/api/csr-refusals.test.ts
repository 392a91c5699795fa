// Bad CSRs sent to POST /v1/cards/{cardId}/certificates: each refused with a problem+json of its own
// type, and nothing stored (no certificate, history, OCSP answer, audit row, idempotency record or
// CRL change). The CSRs are made by openssl, as a card or phone would make them.
import { sql } from 'kysely';
import t from 'tap';
import { testApp, type TestApp } from '../support/app.js';
import { lifecycle } from '../support/lifecycle.js';
import { opensslCsr, workdir } from '../support/openssl.js';

const JST = (s: string) => `${s}+09:00`;

/** The same CSR with one bit of its signature flipped (the signature is the last bytes of the DER). */
function withBadSignature(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
  der[der.length - 1]! ^= 0x01;
  const lines = der.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines}\n-----END CERTIFICATE REQUEST-----\n`;
}

/** Everything an issuance writes, counted. */
async function stored(h: TestApp) {
  const { rows } = await sql<Record<string, string>>`
    SELECT (SELECT count(*) FROM certificates) AS certificates,
           (SELECT count(*) FROM certificate_status_changes) AS "statusChanges",
           (SELECT count(*) FROM ocsp_responses) AS "ocspResponses",
           (SELECT count(*) FROM audit_log) AS audit,
           (SELECT count(*) FROM idempotency_keys) AS "idempotencyKeys",
           (SELECT count(*) FROM certificates WHERE status <> 'good') AS "crlEntries",
           (SELECT sum(crl_changes) FROM certificate_authorities) AS "crlChanges",
           (SELECT count(*) FROM certificate_authorities WHERE crl_stale_since IS NOT NULL) AS "staleCrls"`.execute(h.app.ctx.db);
  return rows[0]!;
}

t.test('garbage, a bad signature and a 1024-bit RSA key: 422 problem+json with the CSR type, nothing stored', async (t) => {
  const h = await testApp(t);
  const s = lifecycle(h);
  const w = workdir();
  t.teardown(() => w.remove());
  await s.setClock(JST('2026-01-15T10:00:00'));
  await s.register('R001', { name: '新宿 太郎', address: '東京都新宿区歌舞伎町1-4-1', dateOfBirth: '1990-05-20', sex: 'male' });
  const { card } = await s.card('R001', '2026-01-15', JST('2026-01-15T09:30:00'));
  const good = await opensslCsr(w, 'good');
  // Issued onto the card first, so a refusal also leaves an existing certificate, its answers and the CRL alone.
  await s.issue(card.cardId, 'userAuthentication', JST('2026-01-15T10:00:00'), { csr: await opensslCsr(w, 'ua'), generateKey: undefined });

  const weak = await opensslCsr(w, 'weak', 'rsa:1024');
  const cases: [string, string, string][] = [
    ['garbage in a PEM frame', `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from('this is not a certificate request, only text long enough to pass the schema').toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`, 'csrMalformed'],
    ['garbage without a frame', 'x'.repeat(200), 'csrMalformed'],
    ['a bad signature', withBadSignature(good), 'csrBadSignature'],
    ['a 1024-bit RSA key', weak, 'csrKeyTooWeak'],
  ];
  const before = await stored(h);
  let n = 0;
  for (const [label, csr, code] of cases) {
    const res = await h.request({
      method: 'POST',
      url: `/v1/cards/${card.cardId}/certificates`,
      headers: { 'idempotency-key': `csr-refusal-${++n}` },
      payload: { kind: 'signature', officeId: 'main', receivedAt: JST('2026-01-15T10:00:00'), applicant: { type: 'self' }, csr },
    });
    t.equal(res.statusCode, 422, `${label}: 422`);
    t.match(res.headers['content-type'], /^application\/problem\+json/, `${label}: problem+json`);
    t.match(res.json(), { type: `urn:jpki-ward:problem:${code}`, status: 422, title: String, detail: String }, `${label}: ${code}`);
    t.notMatch(res.body, /at \w+ \(|\.ts:\d+/, `${label}: no stack trace`);
    t.same(await stored(h), before, `${label}: nothing stored`);
  }
  const weakAgain = await h.request({
    method: 'POST',
    url: `/v1/cards/${card.cardId}/certificates`,
    payload: { kind: 'signature', officeId: 'main', receivedAt: JST('2026-01-15T10:00:00'), applicant: { type: 'self' }, csr: weak },
  });
  t.match(weakAgain.json().detail, /1024 bits/, 'the refusal says what was wrong');

  // The same request with the good CSR is issued and stored: the counts above can move.
  const issued = await s.issue(card.cardId, 'signature', JST('2026-01-15T10:00:00'), { csr: good, generateKey: undefined });
  t.equal(issued.certificate.kind, 'signature');
  const after = await stored(h);
  t.equal(Number(after.certificates), Number(before.certificates) + 1, 'a good CSR stores its certificate');
  t.ok(Number(after.audit) > Number(before.audit), 'and its audit row');
});
