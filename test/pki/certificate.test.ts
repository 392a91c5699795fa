import t from 'tap';
import { readFile } from 'node:fs/promises';
import {
  buildEndEntityCertificate,
  generateSerial,
  normalizeSerial,
  parseCsr,
  responderNeedsRenewal,
  toPem,
  verifyCertificate,
  type BasicFacts,
} from '../../src/pki/index.js';
import { BASE_URL, DAY, makeCa, now, openssl, opensslCsr, put, tempDir } from './helpers.js';

const [sig, auth] = await Promise.all([makeCa('signature'), makeCa('userAuthentication')]);

const facts: BasicFacts = {
  name: '渡邉 花子',
  sex: 'female',
  dateOfBirth: '1990-05-20',
  address: '東京都千代田区霞が関一丁目1番1号',
};

t.test('a certificate issued from an `openssl req` CSR passes `openssl verify`', async (t) => {
  const dir = await tempDir(t);
  const { csrPath } = await opensslCsr(dir, 'resident');
  const csr = parseCsr(await readFile(csrPath, 'utf8'));
  const start = now();
  const cert = await buildEndEntityCertificate({
    issuer: sig.id,
    caPrivateKey: sig.key,
    spki: csr.spki,
    notBefore: new Date(start.getTime() + 123), // milliseconds are dropped
    notAfter: new Date(start.getTime() + 5 * 365 * DAY),
    baseUrl: BASE_URL + '/',
    basicFacts: facts,
  });
  t.same(cert.notBefore, start, 'notBefore truncated to whole seconds');
  t.match(cert.serial, /^[4-7][0-9a-f]{31}$/, '16 bytes, positive, lowercase hex');
  const ca = await put(dir, 'ca.pem', sig.pem);
  const ee = await put(dir, 'ee.pem', toPem(cert.der));

  const v = await openssl(['verify', '-CAfile', ca, ee]);
  t.equal(v.code, 0, v.stderr);
  t.match(v.stdout, /ee\.pem: OK/);

  const text = (await openssl(['x509', '-in', ee, '-noout', '-text', '-nameopt', 'utf8,sep_comma_plus_space'])).stdout;
  t.match(text, /Version: 3 \(0x2\)/);
  t.match(text, /Signature Algorithm: sha256WithRSAEncryption/);
  t.match(text, /Issuer: C=JP, O=JPKI-TEST, OU=JPKI-TEST for digital signature/);
  t.match(text, /Subject: C=JP, O=JPKI-TEST, CN=[0-9a-f]{32}/);
  t.match(text, /X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation\n/);
  t.match(text, /Policy: 1\.2\.392\.200149\.8\.5\.1\.1\.20/);
  t.match(text, /X509v3 Subject Key Identifier/);
  t.match(text, /X509v3 Authority Key Identifier/);
  t.match(text, `URI:${BASE_URL}/pki/signature/crl`);
  t.match(text, `OCSP - URI:${BASE_URL}/pki/signature/ocsp`);
  t.match(text, `CA Issuers - URI:${BASE_URL}/pki/signature/ca.crt`);
  t.match(text, 'othername: 1.2.392.200149.8.5.5.1::渡邉 花子');
  t.match(text, 'othername: 1.2.392.200149.8.5.5.2::00000,');
  t.match(text, 'othername: 1.2.392.200149.8.5.5.3::2,');
  t.match(text, 'othername: 1.2.392.200149.8.5.5.4::419900520,');
  t.match(text, 'othername: 1.2.392.200149.8.5.5.5::東京都千代田区霞が関一丁目1番1号,');
  t.match(text, /othername: 1\.2\.392\.200149\.8\.5\.5\.6::0{17}\n/, 'one zero per address character');

  const serialOut = (await openssl(['x509', '-in', ee, '-noout', '-serial'])).stdout.trim();
  t.equal(serialOut, `serial=${cert.serial.toUpperCase()}`);

  const res = verifyCertificate(toPem(cert.der), [auth.id, sig.id]);
  t.same(res, { chained: true, ca: 'signature', serial: cert.serial, notBefore: cert.notBefore, notAfter: cert.notAfter });
});

t.test('user-authentication certificates carry no personal data', async (t) => {
  const dir = await tempDir(t);
  const { csrPath } = await opensslCsr(dir, 'auth');
  const csr = parseCsr(await readFile(csrPath));
  const base = { issuer: auth.id, caPrivateKey: auth.key, spki: csr.spki, notBefore: now(), notAfter: new Date(now().getTime() + 365 * DAY), baseUrl: BASE_URL };
  await t.rejects(buildEndEntityCertificate({ ...base, basicFacts: facts }), { code: 'invalidArgument' }, 'basic facts refused');
  await t.rejects(buildEndEntityCertificate({ ...base, issuer: sig.id, caPrivateKey: sig.key }), { code: 'invalidArgument' }, 'and required for signature certs');
  await t.rejects(buildEndEntityCertificate({ ...base, spki: Buffer.from('3000', 'hex') }), { code: 'invalidArgument' }, 'not an SPKI');
  // parseCsr's SPKI is not decoded a second time, unless its bytes changed since.
  const changed = parseCsr(await readFile(csrPath)).spki;
  changed.fill(0x30, 0, 4);
  await t.rejects(buildEndEntityCertificate({ ...base, spki: changed }), { code: 'invalidArgument' }, 'an SPKI changed after parseCsr is checked again');
  await t.rejects(buildEndEntityCertificate({ ...base, subjectId: 'CN=evil,O=x' }), { code: 'invalidArgument' }, 'subject id is an identifier only');
  const cert = await buildEndEntityCertificate({ ...base, subjectId: 'deadbeef' });
  const ca = await put(dir, 'ca.pem', auth.pem);
  const ee = await put(dir, 'ee.pem', toPem(cert.der));
  t.equal((await openssl(['verify', '-CAfile', ca, ee])).code, 0);
  const text = (await openssl(['x509', '-in', ee, '-noout', '-text', '-nameopt', 'sep_comma_plus_space'])).stdout;
  t.match(text, /Subject: C=JP, O=JPKI-TEST, CN=deadbeef\n/);
  t.match(text, /X509v3 Key Usage: critical\s+Digital Signature\n/);
  t.match(text, /Policy: 1\.2\.392\.200149\.8\.5\.1\.3\.30/);
  t.notMatch(text, /Subject Alternative Name|othername/);
  t.match(text, `URI:${BASE_URL}/pki/userAuthentication/crl`);
  t.match(text, `OCSP - URI:${BASE_URL}/pki/userAuthentication/ocsp`);

  const wrong = await put(dir, 'other-ca.pem', sig.pem);
  t.not((await openssl(['verify', '-CAfile', wrong, ee])).code, 0, 'does not chain to the other CA');
  t.same(verifyCertificate(cert.der, [sig.id]).chained, false);
  t.equal(verifyCertificate(cert.der, [sig.id, auth.id]).ca, 'userAuthentication');
});

t.test('CA certificates: self-signed, CA:TRUE critical, keyCertSign+cRLSign, TEST in the name', async (t) => {
  const dir = await tempDir(t);
  for (const ca of [sig, auth]) {
    const path = await put(dir, `${ca.id.ca}.pem`, ca.pem);
    t.equal((await openssl(['verify', '-CAfile', path, path])).code, 0);
    const text = (await openssl(['x509', '-in', path, '-noout', '-text', '-nameopt', 'sep_comma_plus_space'])).stdout;
    t.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE/);
    t.match(text, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    t.match(text, /X509v3 Subject Key Identifier/);
    t.match(text, /Subject: C=JP, O=JPKI-TEST, OU=JPKI-TEST for /);
    t.notMatch(text, /\+/, 'one attribute per RDN');
    const asn1 = (await openssl(['asn1parse', '-in', path])).stdout;
    t.match(asn1, /countryName\s*\n.*PRINTABLESTRING\s+:JP/);
  }
});

t.test('delegated OCSP responder certificate', async (t) => {
  const dir = await tempDir(t);
  const ca = await put(dir, 'ca.pem', sig.pem);
  const path = await put(dir, 'resp.pem', toPem(sig.responder.certificate));
  t.equal((await openssl(['verify', '-CAfile', ca, '-purpose', 'ocsphelper', path])).code, 0);
  const text = (await openssl(['x509', '-in', path, '-noout', '-text', '-nameopt', 'sep_comma_plus_space'])).stdout;
  t.match(text, /X509v3 Extended Key Usage:\s+OCSP Signing/);
  t.match(text, /OCSP No Check/);
  t.match(text, /CN=JPKI-TEST OCSP Responder for digital signature/);
  const days = (sig.responder.notAfter.getTime() - now().getTime()) / DAY;
  t.ok(days > 28 && days <= 30, `about 30 days left (${days.toFixed(1)})`);

  const cert = sig.responder.certificate;
  t.equal(responderNeedsRenewal(cert, now()), false, 'fresh');
  t.equal(responderNeedsRenewal(cert, new Date(sig.responder.notAfter.getTime() - 11 * DAY)), false);
  t.equal(responderNeedsRenewal(cert, new Date(sig.responder.notAfter.getTime() - 9 * DAY)), true, 'inside the last third');
  t.equal(responderNeedsRenewal(cert, new Date(sig.responder.notAfter.getTime() + 1)), true, 'expired');
  t.equal(responderNeedsRenewal(cert, new Date(sig.responder.notAfter.getTime() - 2 * DAY), 1 * DAY), false, 'custom margin');
});

t.test('serials', async (t) => {
  const serials = Array.from({ length: 1000 }, generateSerial);
  t.same(serials.filter((s) => !/^[4-7][0-9a-f]{31}$/.test(s)), [], 'all 16 bytes, top bit clear, no leading zero');
  t.equal(new Set(serials).size, 1000);
  t.equal(normalizeSerial('00:AB:cd'), 'abcd');
  t.throws(() => normalizeSerial('0'), { code: 'invalidArgument' });
  t.throws(() => normalizeSerial('xyz'), { code: 'invalidArgument' });
  t.throws(() => normalizeSerial('80' + '00'.repeat(19)), { code: 'invalidArgument' }, '21 octets once DER-encoded');
  t.equal(normalizeSerial('7f' + '00'.repeat(19)).length, 40);
});

t.test('a caller-chosen serial and a notAfter after 2049 (GeneralizedTime)', async (t) => {
  const dir = await tempDir(t);
  const { csrPath } = await opensslCsr(dir, 'late');
  const cert = await buildEndEntityCertificate({
    issuer: auth.id,
    caPrivateKey: auth.key,
    spki: parseCsr(await readFile(csrPath)).spki,
    notBefore: now(),
    notAfter: new Date('2051-03-01T12:34:56.789Z'),
    baseUrl: BASE_URL,
    serial: '00FF01',
  });
  t.equal(cert.serial, 'ff01');
  const ee = await put(dir, 'ee.pem', toPem(cert.der));
  const ca = await put(dir, 'ca.pem', auth.pem);
  t.equal((await openssl(['verify', '-CAfile', ca, ee])).code, 0);
  t.match((await openssl(['x509', '-in', ee, '-noout', '-enddate', '-serial'])).stdout, /notAfter=Mar {2}1 12:34:56 2051 GMT\nserial=FF01/);
  t.match((await openssl(['asn1parse', '-in', ee])).stdout, /GENERALIZEDTIME\s+:20510301123456Z/);
  const spki = parseCsr(await readFile(csrPath)).spki;
  await t.rejects(buildEndEntityCertificate({ issuer: auth.id, caPrivateKey: auth.key, spki, notBefore: now(), notAfter: now(), baseUrl: BASE_URL }), { code: 'invalidArgument' }, 'empty validity');
});

t.test('verify helper: garbage and foreign certificates', async (t) => {
  t.throws(() => verifyCertificate('not a certificate', [sig.id]), { code: 'certificateMalformed' });
  t.throws(() => verifyCertificate(Buffer.from('3003020100', 'hex'), [sig.id]), { code: 'certificateMalformed' });
  const other = await makeCa('signature'); // same name, different key
  const r = verifyCertificate(other.pem, [sig.id, auth.id]);
  t.equal(r.chained, false, 'same subject but another key does not chain');
  t.equal(verifyCertificate(sig.pem, [sig.id]).chained, true, 'the CA itself chains (self-signed)');
});
