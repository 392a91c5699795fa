import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { buildEndEntityCertificate, generateResidentKeyPair, toPem } from '../../src/pki/index.js';
import { readOcspStatus } from '../../src/pki/status-read.js';
import { changeCertificateStatus, regenerateStaleCrls } from '../../src/services/certificate-status.js';
import { inTransaction } from '../../src/services/context.js';
import { ADMIN_KEY, testApp, type TestApp } from '../support/app.js';
import { lifecycle } from '../support/lifecycle.js';
import { FACTS, insertResident, issueFromOpensslCsr, keyMaterialIn, openssl, put, tempDir } from './pki-support.js';

const HOUR = 3_600_000;

async function revoke(h: TestApp, serial: string, status: 'revoked' | 'onHold', reason: Parameters<typeof changeCertificateStatus>[2]['reason'], effectiveAt: Date) {
  await inTransaction(h.app.ctx, (trx) => changeCertificateStatus(trx, h.app.ctx, { serial, status, reason, effectiveAt, cause: 'test' }));
}

async function fetchCrlPem(h: TestApp, dir: string, ca: string, name: string): Promise<string> {
  const res = await h.request({ method: 'GET', url: `/pki/${ca}/crl`, auth: null });
  if (res.statusCode !== 200) throw new Error(`CRL: ${res.statusCode} ${res.body}`);
  const der = await put(dir, `${name}.der`, res.rawPayload);
  const pem = await openssl(['crl', '-inform', 'DER', '-in', der, '-out', `${dir}/${name}.pem`]);
  if (pem.code !== 0) throw new Error(pem.stderr);
  return `${dir}/${name}.pem`;
}

t.test('CA certificates: DER and PEM, public; unknown CA is a 404 problem', async (t) => {
  const h = await testApp(t);
  const der = await h.request({ method: 'GET', url: '/pki/signature/ca.crt', auth: null });
  t.equal(der.statusCode, 200);
  t.equal(der.headers['content-type'], 'application/pkix-cert');
  t.equal(der.rawPayload[0], 0x30, 'DER');
  const pem = await h.request({ method: 'GET', url: '/pki/userAuthentication/ca.crt', auth: null, headers: { accept: 'application/x-pem-file' } });
  t.match(pem.headers['content-type'], /^application\/x-pem-file/);
  t.match(pem.body, /^-----BEGIN CERTIFICATE-----/);
  const dir = await tempDir(t);
  const text = await openssl(['x509', '-in', await put(dir, 'ua.pem', pem.body), '-noout', '-subject', '-dates', '-ext', 'basicConstraints,keyUsage']);
  t.match(text.stdout, /O ?= ?JPKI-TEST/);
  t.match(text.stdout, /TEST for user authentication/);
  t.match(text.stdout, /CA:TRUE/);
  t.match(text.stdout, /Certificate Sign, CRL Sign/);
  const years = (Date.parse(/notAfter=(.*)/.exec(text.stdout)![1]!) - Date.parse(/notBefore=(.*)/.exec(text.stdout)![1]!)) / (365.25 * 24 * HOUR);
  t.ok(years > 19.9, `long-lived CA (${years.toFixed(1)} years)`);

  const missing = await h.request({ method: 'GET', url: '/pki/nonsense/ca.crt', auth: null });
  t.equal(missing.statusCode, 404);
  t.match(missing.headers['content-type'], /^application\/problem\+json/);
  t.equal((await h.request({ method: 'GET', url: '/pki/nonsense/crl', auth: null })).statusCode, 404);
  const ocsp404 = await h.request({ method: 'POST', url: '/pki/nonsense/ocsp', auth: null, headers: { 'content-type': 'application/ocsp-request' }, payload: Buffer.from([0x30, 0x00]) });
  t.equal(ocsp404.statusCode, 404);
  t.match(ocsp404.headers['content-type'], /^application\/problem\+json/);

  const spec = (await h.request({ method: 'GET', url: '/openapi.json', auth: null })).json();
  for (const [path, method] of [['/pki/{ca}/ca.crt', 'get'], ['/pki/{ca}/crl', 'get'], ['/pki/{ca}/ocsp', 'post'], ['/v1/certificates/verify', 'post']] as const) {
    t.ok(spec.paths[path]?.[method], `${method.toUpperCase()} ${path} is in the OpenAPI document`);
  }
  t.ok(Object.keys(spec.paths).some((p) => p.startsWith('/pki/{ca}/ocsp/')), 'the GET OCSP form too');
});

t.test('SHA-256 CertID answers: pre-signed with every status change and served from storage, the request path signs nothing', async (t) => {
  const h = await testApp(t);
  const dir = await tempDir(t);
  const resident = await insertResident(h.app);
  const caPath = await put(dir, 'ca.pem', (await h.request({ method: 'GET', url: '/pki/signature/ca.crt', auth: null, headers: { accept: 'application/x-pem-file' } })).body);
  const a = await issueFromOpensslCsr(h.app, dir, 'a', 'signature', resident);
  const row = () => h.app.ctx.db.selectFrom('ocsp_responses').select(['status', 'sha1_der', 'sha256_der']).where('serial', '=', a.serial).executeTakeFirstOrThrow();
  const issued = await row();
  t.ok(issued.sha256_der, 'issuance stores the SHA-256 answer beside the SHA-1 one');
  t.match(readOcspStatus(issued.sha256_der!), { serial: a.serial, status: 'good', hashAlgorithm: 'sha256' });
  t.match(readOcspStatus(issued.sha1_der), { serial: a.serial, status: 'good', hashAlgorithm: 'sha1' }, 'two responses, one CertID each');

  // While the responder cannot sign, every answer must come from storage: a request path that
  // signed (as the SHA-256 answer once was, on its first request) would fail.
  const ca = h.app.ctx.cas.get('signature');
  const responder = ca.responder;
  const unusable = generateKeyPairSync('ed25519').privateKey;
  const withoutSigning = async <T>(what: () => Promise<T>): Promise<T> => {
    ca.responder = { ...responder, privateKey: unusable };
    try {
      return await what();
    } finally {
      ca.responder = responder;
    }
  };
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}/pki/signature/ocsp`;
  const ask = async (name: string, hash: 'sha1' | 'sha256') => {
    const respPath = `${dir}/${name}.der`;
    const r = await openssl(['ocsp', `-${hash}`, '-no_nonce', '-issuer', caPath, '-cert', a.certPath, '-url', url, '-CAfile', caPath, '-respout', respPath, '-resp_text']);
    t.match(r.stderr + r.stdout, /Response verify OK/, `${name}: openssl accepts the answer`);
    t.match(r.stdout, new RegExp(`Hash Algorithm: ${hash}`), `${name}: it names the ${hash} CertID`);
    return { stdout: r.stdout, der: await readFile(respPath).catch(() => Buffer.alloc(0)) };
  };
  const good = await withoutSigning(() => ask('good', 'sha256'));
  t.match(good.stdout, new RegExp(`${a.certPath}: good`));
  t.same(good.der, Buffer.from(issued.sha256_der!), 'the bytes stored at issuance');

  const revocation = await h.request({ method: 'POST', url: `/v1/certificates/${a.serial}/revocation`, payload: { reason: 'keyCompromise' } });
  t.equal(revocation.statusCode, 201, revocation.body);
  const revokedRow = await row();
  t.equal(revokedRow.status, 'revoked');
  t.match(readOcspStatus(revokedRow.sha256_der!), { status: 'revoked', reason: 'keyCompromise', hashAlgorithm: 'sha256' }, 'the revocation stored its SHA-256 answer when it committed');
  const [revoked, revokedSha1] = await withoutSigning(async () => [await ask('revoked', 'sha256'), await ask('revoked-sha1', 'sha1')]);
  t.match(revoked.stdout, new RegExp(`${a.certPath}: revoked`), 'openssl ocsp -sha256: revoked');
  t.match(revoked.stdout, /Reason: keyCompromise/);
  t.same(revoked.der, Buffer.from(revokedRow.sha256_der!), 'served as stored');
  t.same(revokedSha1.der, Buffer.from(revokedRow.sha1_der), 'and the SHA-1 one too');

  const report = (await h.request({ method: 'GET', url: '/v1/pki/consistency?regenerate=true', auth: ADMIN_KEY })).json();
  t.equal(report.consistent, true, JSON.stringify(report.cas.map((c: { differences: unknown }) => c.differences)));
  await h.app.ctx.db.updateTable('ocsp_responses').set({ sha256_der: issued.sha256_der! }).where('serial', '=', a.serial).execute();
  const tampered = (await h.request({ method: 'GET', url: '/v1/pki/consistency', auth: ADMIN_KEY })).json();
  t.equal(tampered.consistent, false, 'a stored SHA-256 answer that says good for a revoked certificate is reported');
  t.same(tampered.cas.find((c: { ca: string }) => c.ca === 'signature').ocsp, [{ serial: a.serial, database: 'revoked:keyCompromise', published: 'good' }]);
  await h.app.ctx.db.updateTable('ocsp_responses').set({ sha256_der: revokedRow.sha1_der }).where('serial', '=', a.serial).execute();
  const wrongHash = (await h.request({ method: 'GET', url: '/v1/pki/consistency', auth: ADMIN_KEY })).json();
  t.same(wrongHash.cas.find((c: { ca: string }) => c.ca === 'signature').ocsp, [{ serial: a.serial, database: 'revoked:keyCompromise', published: 'otherHash:sha1' }], 'so is a SHA-1 answer where the SHA-256 one belongs');
  await t.rejects(h.app.ctx.db.updateTable('ocsp_responses').set({ sha256_der: null as never }).where('serial', '=', a.serial).execute(), { code: '23514' }, 'and a row without its SHA-256 answer cannot be written (migration 0013)');
});

t.test('issued certificates: openssl verify, profile, CRL with reason and invalidity date, OCSP over HTTP', async (t) => {
  const h = await testApp(t);
  const dir = await tempDir(t);
  const resident = await insertResident(h.app);
  const caPath = await put(dir, 'ca.pem', (await h.request({ method: 'GET', url: '/pki/signature/ca.crt', auth: null, headers: { accept: 'application/x-pem-file' } })).body);
  const uaCaPath = await put(dir, 'ua-ca.pem', (await h.request({ method: 'GET', url: '/pki/userAuthentication/ca.crt', auth: null, headers: { accept: 'application/x-pem-file' } })).body);

  const a = await issueFromOpensslCsr(h.app, dir, 'a', 'signature', resident);
  const b = await issueFromOpensslCsr(h.app, dir, 'b', 'signature', resident);
  const u = await issueFromOpensslCsr(h.app, dir, 'u', 'userAuthentication', resident);

  t.equal((await openssl(['verify', '-CAfile', caPath, a.certPath])).code, 0, 'signature certificate chains (openssl verify)');
  t.equal((await openssl(['verify', '-CAfile', uaCaPath, u.certPath])).code, 0, 'user-authentication certificate chains');
  t.not((await openssl(['verify', '-CAfile', uaCaPath, a.certPath])).code, 0, 'but not to the other CA');

  const aText = (await openssl(['x509', '-in', a.certPath, '-noout', '-text'])).stdout;
  t.match(aText, /1\.2\.392\.200149\.8\.5\.1\.1\.20/, 'signature policy OID');
  t.match(aText, /Digital Signature, Non Repudiation/);
  t.match(aText, /1\.2\.392\.200149\.8\.5\.5\.1/, 'basic facts in subjectAltName otherName');
  t.match(aText, /http:\/\/localhost:3000\/pki\/signature\/crl/, 'CRL distribution point from PUBLIC_BASE_URL');
  t.match(aText, /OCSP - URI:http:\/\/localhost:3000\/pki\/signature\/ocsp/);
  t.match(aText, /CA Issuers - URI:http:\/\/localhost:3000\/pki\/signature\/ca\.crt/);
  const uText = (await openssl(['x509', '-in', u.certPath, '-noout', '-text'])).stdout;
  t.match(uText, /1\.2\.392\.200149\.8\.5\.1\.3\.30/, 'user-authentication policy OID');
  t.notMatch(uText, /Subject Alternative Name/, 'no personal data in user-authentication certificates');
  t.notMatch(uText, new RegExp(FACTS.name), 'no name');

  const stored = await h.app.ctx.db.selectFrom('certificates').selectAll().where('serial', '=', a.serial).executeTakeFirstOrThrow();
  t.equal(stored.status, 'good');
  t.same(Buffer.from(stored.der), Buffer.from(a.der));
  const history = await h.app.ctx.db.selectFrom('certificate_status_changes').selectAll().where('serial', '=', a.serial).execute();
  t.same(history.map((r) => r.status), ['good']);
  const ocspRow = await h.app.ctx.db.selectFrom('ocsp_responses').selectAll().where('serial', '=', a.serial).executeTakeFirstOrThrow();
  t.equal(ocspRow.status, 'good', 'OCSP good answers stored at issuance');
  t.equal(ocspRow.next_update.getTime() - ocspRow.this_update.getTime(), h.config.policy.ocspValidityHours * HOUR, 'OCSP_VALIDITY_HOURS');

  // Revoke A, effective an hour ago; B stays good.
  const effective = new Date(Math.floor((h.app.ctx.clock.now().getTime() - HOUR) / 1000) * 1000);
  await revoke(h, a.serial, 'revoked', 'affiliationChanged', effective);
  const caRow = await h.app.ctx.db.selectFrom('certificate_authorities').select(['crl_stale_since', 'next_crl_number']).where('ca_id', '=', 'signature').executeTakeFirstOrThrow();
  t.ok(caRow.crl_stale_since, 'the CRL is marked stale by the status change');
  await regenerateStaleCrls(h.app.ctx);
  t.equal((await h.app.ctx.db.selectFrom('certificate_authorities').select('crl_stale_since').where('ca_id', '=', 'signature').executeTakeFirstOrThrow()).crl_stale_since, null, 'and cleared by the regeneration');

  const crlRes = await h.request({ method: 'GET', url: '/pki/signature/crl', auth: null });
  t.equal(crlRes.headers['content-type'], 'application/pkix-crl');
  const maxAge = Number(/max-age=(\d+)/.exec(String(crlRes.headers['cache-control']))![1]);
  t.ok(maxAge > 0 && maxAge <= h.config.policy.crlValidityHours * 3600, `Cache-Control up to nextUpdate (${maxAge})`);
  t.equal((await h.request({ method: 'GET', url: '/pki/signature/crl', auth: null, headers: { 'if-none-match': String(crlRes.headers.etag) } })).statusCode, 304);
  const crlPem = await fetchCrlPem(h, dir, 'signature', 'crl1');
  const crlText = (await openssl(['crl', '-in', crlPem, '-noout', '-text'])).stdout;
  t.match(crlText, new RegExp(`Serial Number: ${a.serial.toUpperCase()}`));
  t.notMatch(crlText, new RegExp(b.serial.toUpperCase()), 'a good certificate is not listed');
  t.match(crlText, /CRL Reason Code:\s*\n\s*Affiliation Changed/);
  t.match(crlText, /Invalidity Date:\s*\n\s*(\w+ +\d+ [\d:]+ \d{4} GMT)/);
  const inv = /Invalidity Date:\s*\n\s*(\w+ +\d+ [\d:]+ \d{4} GMT)/.exec(crlText)![1]!;
  t.equal(new Date(inv).getTime(), effective.getTime(), 'invalidityDate is the effective time');
  t.match(crlText, /X509v3 CRL Number:\s*\n\s*2/, 'CRL number increased from the first (empty) CRL');
  t.match(crlText, /Next Update: /);
  const revokedCheck = await openssl(['verify', '-crl_check', '-CAfile', caPath, '-CRLfile', crlPem, a.certPath]);
  t.not(revokedCheck.code, 0);
  t.match(revokedCheck.stdout + revokedCheck.stderr, /certificate revoked/, 'openssl verify -crl_check: revoked');
  t.equal((await openssl(['verify', '-crl_check', '-CAfile', caPath, '-CRLfile', crlPem, b.certPath])).code, 0, 'and the other one passes');

  // OCSP over the network, judged by openssl ocsp.
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (h.app.server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/pki/signature/ocsp`;
  const ocsp = (cert: string, issuer = caPath, extra: string[] = []) => openssl(['ocsp', ...extra, '-issuer', issuer, '-cert', cert, '-url', url, '-CAfile', issuer]);
  const revokedAnswer = await ocsp(a.certPath);
  t.match(revokedAnswer.stdout, new RegExp(`${a.certPath}: revoked`), 'openssl ocsp: revoked');
  t.match(revokedAnswer.stdout, /Reason: affiliationChanged/);
  t.match(revokedAnswer.stderr + revokedAnswer.stdout, /Response verify OK/);
  t.match(revokedAnswer.stderr + revokedAnswer.stdout, /WARNING: no nonce in response/, 'the nonce is not echoed (RFC 8954), and openssl accepts that');
  const goodAnswer = await ocsp(b.certPath, caPath, ['-no_nonce', '-sha256']);
  t.match(goodAnswer.stdout, new RegExp(`${b.certPath}: good`), 'good (SHA-256 CertID)');
  t.match(goodAnswer.stderr + goodAnswer.stdout, /Response verify OK/);

  // A certificate from this CA's key that was never stored: unknown.
  const ca = h.app.ctx.cas.get('signature');
  const stray = await buildEndEntityCertificate({ issuer: ca.identity, caPrivateKey: ca.privateKey, spki: (await generateResidentKeyPair()).spki, notBefore: new Date(Date.now() - HOUR), notAfter: new Date(Date.now() + 24 * HOUR), baseUrl: h.config.publicBaseUrl, basicFacts: FACTS });
  const strayPath = await put(dir, 'stray.pem', toPem(stray.der));
  const unknownAnswer = await ocsp(strayPath, caPath, ['-no_nonce']);
  t.match(unknownAnswer.stdout, new RegExp(`${strayPath}: unknown`), 'never issued: unknown');
  t.match(unknownAnswer.stderr + unknownAnswer.stdout, /Response verify OK/);

  // Another issuer's certificate sent to this responder: unauthorized.
  const foreign = await openssl(['ocsp', '-issuer', uaCaPath, '-cert', u.certPath, '-url', url, '-no_nonce']);
  t.match(foreign.stdout + foreign.stderr, /unauthorized \(6\)/, 'foreign issuer: unauthorized');
  const uaAnswer = await openssl(['ocsp', '-issuer', uaCaPath, '-cert', u.certPath, '-url', `http://127.0.0.1:${port}/pki/userAuthentication/ocsp`, '-CAfile', uaCaPath, '-no_nonce']);
  t.match(uaAnswer.stdout, /: good/, 'while its own responder answers good');

  // GET form: the request made by openssl, base64 in the path.
  const reqPath = `${dir}/req.der`;
  t.equal((await openssl(['ocsp', '-issuer', caPath, '-cert', a.certPath, '-reqout', reqPath, '-no_nonce'])).code, 0);
  const reqB64 = (await readFile(reqPath)).toString('base64');
  const forms: [string, string][] = [['base64, URL-encoded', encodeURIComponent(reqB64)], ['base64url', Buffer.from(reqB64, 'base64').toString('base64url')]];
  for (const [label, segment] of forms) {
    const res = await fetch(`${url}/${segment}`);
    t.equal(res.status, 200, label);
    t.equal(res.headers.get('content-type'), 'application/ocsp-response');
    t.match(res.headers.get('cache-control'), /max-age=\d+/);
    t.ok(res.headers.get('etag'), 'ETag');
    const respPath = await put(dir, 'resp.der', Buffer.from(await res.arrayBuffer()));
    const judged = await openssl(['ocsp', '-respin', respPath, '-issuer', caPath, '-cert', a.certPath, '-CAfile', caPath, '-no_nonce']);
    t.match(judged.stdout, /: revoked/, `GET (${label}): revoked`);
    t.match(judged.stderr + judged.stdout, /Response verify OK/);
    const again = await fetch(`${url}/${segment}`, { headers: { 'if-none-match': res.headers.get('etag')! } });
    t.equal(again.status, 304, 'If-None-Match → 304');
  }

  // Garbage: malformedRequest (unsigned OCSPResponse with status 1), POST and GET.
  const garbage = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: Buffer.from('this is not DER') });
  t.equal(garbage.status, 200);
  t.same(Buffer.from(await garbage.arrayBuffer()), Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x01]), 'malformedRequest');
  const garbageGet = await fetch(`${url}/${encodeURIComponent('bm90IGFuIE9DU1AgcmVxdWVzdA==')}`);
  t.same(Buffer.from(await garbageGet.arrayBuffer()), Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x01]), 'malformedRequest (GET)');
  const notBase64 = await fetch(`${url}/not*base64`);
  t.same(Buffer.from(await notBase64.arrayBuffer()), Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x01]), 'malformedRequest (GET, not base64)');
  const tooBig = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: Buffer.alloc(20_000, 0x30) });
  t.equal(tooBig.status, 413, 'oversized request bodies are refused');
  const wrongType = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
  t.equal(wrongType.status, 415);

});

t.test('certificateHold: in the CRL and OCSP, never back to good; revocation is final', async (t) => {
  const h = await testApp(t);
  const dir = await tempDir(t);
  const resident = await insertResident(h.app);
  const caPath = await put(dir, 'ca.pem', h.app.ctx.cas.get('userAuthentication').certificatePem);
  const c = await issueFromOpensslCsr(h.app, dir, 'c', 'userAuthentication', resident);
  const lostAt = new Date(Math.floor(h.app.ctx.clock.now().getTime() / 1000) * 1000 - 2 * HOUR);
  await revoke(h, c.serial, 'onHold', 'certificateHold', lostAt);
  await regenerateStaleCrls(h.app.ctx);
  const crlPem = await fetchCrlPem(h, dir, 'userAuthentication', 'hold');
  t.match((await openssl(['crl', '-in', crlPem, '-noout', '-text'])).stdout, /Certificate Hold/, 'the CRL lists the hold');
  const held = await openssl(['verify', '-crl_check', '-CAfile', caPath, '-CRLfile', crlPem, c.certPath]);
  t.match(held.stdout + held.stderr, /certificate revoked/, 'openssl treats the hold as revoked');

  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (h.app.server.address() as AddressInfo).port;
  const answer = await openssl(['ocsp', '-issuer', caPath, '-cert', c.certPath, '-url', `http://127.0.0.1:${port}/pki/userAuthentication/ocsp`, '-CAfile', caPath, '-no_nonce']);
  t.match(answer.stdout, /: revoked/, 'OCSP: revoked …');
  t.match(answer.stdout, /Reason: certificateHold/, '… with reason certificateHold (RFC 6960)');

  const again = inTransaction(h.app.ctx, (trx) => changeCertificateStatus(trx, h.app.ctx, { serial: c.serial, status: 'onHold', reason: 'certificateHold', effectiveAt: lostAt, cause: 'test' }));
  await t.rejects(again, { status: 409, code: 'certificateAlreadyOnHold' });
  // No way back to good, whatever reason is given (cessationOfOperation once slipped through and answered good).
  for (const reason of ['cessationOfOperation', 'certificateHold', 'superseded'] as const) {
    const toGood = inTransaction(h.app.ctx, (trx) => changeCertificateStatus(trx, h.app.ctx, { serial: c.serial, status: 'good' as never, reason, effectiveAt: lostAt, cause: 'test' }));
    await t.rejects(toGood, { name: 'Problem', status: 409, code: 'statusChangeNotAllowed' }, `onHold → good (${reason}) is refused`);
  }
  t.equal((await h.app.ctx.db.selectFrom('certificates').select('status').where('serial', '=', c.serial).executeTakeFirstOrThrow()).status, 'onHold');
  t.equal((await h.app.ctx.db.selectFrom('ocsp_responses').select('status').where('serial', '=', c.serial).executeTakeFirstOrThrow()).status, 'onHold', 'the OCSP answer still says certificateHold');
  t.match((await openssl(['ocsp', '-issuer', caPath, '-cert', c.certPath, '-url', `http://127.0.0.1:${port}/pki/userAuthentication/ocsp`, '-CAfile', caPath, '-no_nonce'])).stdout, /Reason: certificateHold/);
  // The database refuses it too, whoever writes (migration 0015).
  await t.rejects(h.app.ctx.db.updateTable('certificates').set({ status: 'good' }).where('serial', '=', c.serial).execute(), { code: '23514' }, 'UPDATE onHold → good is refused by PostgreSQL');

  // Found, not stolen: the hold becomes a revocation (cessationOfOperation).
  await revoke(h, c.serial, 'revoked', 'cessationOfOperation', h.app.ctx.clock.now());
  const revoked = inTransaction(h.app.ctx, (trx) => changeCertificateStatus(trx, h.app.ctx, { serial: c.serial, status: 'revoked', reason: 'keyCompromise', effectiveAt: lostAt, cause: 'test' }));
  await t.rejects(revoked, { status: 409, code: 'certificateAlreadyRevoked' });
  const reheld = inTransaction(h.app.ctx, (trx) => changeCertificateStatus(trx, h.app.ctx, { serial: c.serial, status: 'onHold', reason: 'certificateHold', effectiveAt: lostAt, cause: 'test' }));
  await t.rejects(reheld, { status: 409, code: 'certificateAlreadyRevoked' }, 'revoked → onHold is refused');
  for (const status of ['good', 'onHold']) {
    await t.rejects(h.app.ctx.db.updateTable('certificates').set({ status }).where('serial', '=', c.serial).execute(), { code: '23514' }, `UPDATE revoked → ${status} is refused by PostgreSQL`);
  }
  const hist = await h.app.ctx.db.selectFrom('certificate_status_changes').select(['status', 'reason']).where('serial', '=', c.serial).orderBy('id').execute();
  t.same(hist, [{ status: 'good', reason: null }, { status: 'onHold', reason: 'certificateHold' }, { status: 'revoked', reason: 'cessationOfOperation' }], 'history kept');
  await regenerateStaleCrls(h.app.ctx);
  const crl2 = await fetchCrlPem(h, dir, 'userAuthentication', 'final');
  t.match((await openssl(['crl', '-in', crl2, '-noout', '-text'])).stdout, /Cessation Of Operation/);
  await t.rejects(inTransaction(h.app.ctx, (trx) => changeCertificateStatus(trx, h.app.ctx, { serial: 'abcdef', status: 'revoked', reason: 'keyCompromise', effectiveAt: lostAt, cause: 'test' })), { name: 'Problem', status: 404 });
});

t.test('CA keys are encrypted at rest and decrypt only with the passphrase', async (t) => {
  const h = await testApp(t);
  const rows = await h.app.ctx.db.selectFrom('certificate_authorities').selectAll().execute();
  t.same(rows.map((r) => r.ca_id).sort(), ['signature', 'userAuthentication']);
  for (const row of rows) {
    for (const key of [row.encrypted_key, row.responder_encrypted_key]) {
      t.match(key, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      t.throws(() => createPrivateKey({ key, format: 'pem' }), 'not usable without the passphrase');
      t.throws(() => createPrivateKey({ key, format: 'pem', passphrase: 'wrong passphrase!!' }), 'nor with a wrong one');
      t.equal(createPrivateKey({ key, format: 'pem', passphrase: h.config.caKeyPassphrase }).asymmetricKeyDetails?.modulusLength, 2048, 'RSA-2048 with the right one');
    }
  }
});

t.test('a key pair generated for the holder (generateKey) is returned once and never logged, even at LOG_LEVEL=trace', async (t) => {
  const h = await testApp(t, { LOG_LEVEL: 'trace' });
  const s = lifecycle(h);
  await s.setClock('2026-01-15T10:00:00+09:00');
  await s.register('R001', { name: '新宿 太郎', address: '東京都新宿区歌舞伎町1-4-1', dateOfBirth: '1990-05-20', sex: 'male' });
  const { card } = await s.card('R001', '2026-01-15', '2026-01-15T09:30:00+09:00');
  const issued = await s.issue(card.cardId, 'signature', '2026-01-15T10:00:00+09:00');
  t.match(issued.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/, 'the key is in the answer');
  const logs = h.logs();
  t.match(logs, new RegExp(`/v1/cards/${card.cardId}/certificates`), 'the logs cover the issuance request');
  t.match(logs, /"statusCode":201/, 'and its answer');
  t.same(keyMaterialIn(logs, [issued.privateKeyPem]), [], 'no part of the returned key, and no PEM private key, in the logs');
  // The check itself finds a key where there is one.
  t.not(keyMaterialIn(JSON.stringify({ body: issued.privateKeyPem }), [issued.privateKeyPem]).length, 0);
});

t.test('POST /v1/certificates/verify: chain and current status', async (t) => {
  const h = await testApp(t);
  const dir = await tempDir(t);
  const resident = await insertResident(h.app);
  const a = await issueFromOpensslCsr(h.app, dir, 'a', 'signature', resident);
  const verify = (pem: string, auth: string | null = ADMIN_KEY) => h.request({ method: 'POST', url: '/v1/certificates/verify', auth, payload: { pem } });

  const good = await verify(a.pem);
  t.equal(good.statusCode, 200);
  t.match(good.json(), { chained: true, ca: 'signature', serial: a.serial, status: 'good', notBefore: a.notBefore.toISOString(), notAfter: a.notAfter.toISOString() });

  await revoke(h, a.serial, 'revoked', 'keyCompromise', h.app.ctx.clock.now());
  t.match((await verify(a.pem)).json(), { status: 'revoked', revocationReason: 'keyCompromise' });

  const b = await issueFromOpensslCsr(h.app, dir, 'b', 'userAuthentication', resident);
  h.app.clock.set(new Date(b.notAfter.getTime() + 1000));
  t.match((await verify(b.pem)).json(), { chained: true, ca: 'userAuthentication', status: 'expired' });
  h.app.clock.set(new Date(b.notBefore.getTime() - 1000));
  t.match((await verify(b.pem)).json(), { status: 'notYetValid' });
  h.app.clock.reset();

  // A certificate from some other CA: does not chain, status unknown.
  const other = await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir}/o.key`, '-out', `${dir}/o.pem`, '-subj', '/C=JP/O=JPKI-TEST/OU=JPKI-TEST for digital signature', '-days', '1']);
  t.equal(other.code, 0);
  t.match((await verify(await readFile(`${dir}/o.pem`, 'utf8'))).json(), { chained: false, ca: null, status: 'unknown' }, 'same name, other key: not ours');

  const garbage = await verify('-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
  t.equal(garbage.statusCode, 422);
  t.match(garbage.headers['content-type'], /^application\/problem\+json/);
  t.match(garbage.json(), { type: 'urn:jpki-ward:problem:certificateMalformed' });
  t.equal((await verify('hello')).statusCode, 422);
  t.equal((await h.request({ method: 'POST', url: '/v1/certificates/verify', payload: { pem: a.pem, extra: 1 } })).statusCode, 400, 'unknown fields refused');
  t.equal((await verify(a.pem, null)).statusCode, 401, 'needs an API key');
});
