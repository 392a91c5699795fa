import t from 'tap';
import { readFile } from 'node:fs/promises';
import { buildEndEntityCertificate, parseCsr, toPem } from '../../src/pki/index.js';
import { BASE_URL, DAY, makeCa, now, openssl, opensslCsr, put, tempDir } from './helpers.js';

t.test('accepted keys: RSA 2048+, ECDSA P-256; PEM or DER', async (t) => {
  const dir = await tempDir(t);
  const rsa = await opensslCsr(dir, 'rsa3072', ['-newkey', 'rsa:3072']);
  const pem = await readFile(rsa.csrPath, 'utf8');
  const fromPem = parseCsr(pem);
  t.equal(fromPem.keyType, 'rsa');
  t.equal(fromPem.keyBits, 3072);
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  t.same(parseCsr(der).spki, fromPem.spki, 'DER input gives the same SPKI');
  t.same(parseCsr(new Uint8Array(Buffer.from(pem))).spki, fromPem.spki, 'PEM as bytes too');

  const ec = await opensslCsr(dir, 'p256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
  const ecCsr = parseCsr(await readFile(ec.csrPath));
  t.equal(ecCsr.keyType, 'ec');

  // An EC certificate still chains to the RSA CA.
  const ca = await makeCa('userAuthentication');
  const cert = await buildEndEntityCertificate({ issuer: ca.id, caPrivateKey: ca.key, spki: ecCsr.spki, notBefore: now(), notAfter: new Date(now().getTime() + DAY), baseUrl: BASE_URL });
  const caPath = await put(dir, 'ca.pem', ca.pem);
  const eePath = await put(dir, 'ee.pem', toPem(cert.der));
  t.equal((await openssl(['verify', '-CAfile', caPath, eePath])).code, 0);
  t.match((await openssl(['x509', '-in', eePath, '-noout', '-text'])).stdout, /ASN1 OID: prime256v1/);
});

t.test('refusals carry a clear code', async (t) => {
  const dir = await tempDir(t);
  t.throws(() => parseCsr('garbage'), { code: 'csrMalformed' });
  t.throws(() => parseCsr(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])), { code: 'csrMalformed' });
  t.throws(() => parseCsr('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'), { code: 'csrMalformed' });
  t.throws(() => parseCsr(Buffer.alloc(0)), { code: 'csrMalformed' });

  const good = await opensslCsr(dir, 'good');
  const der = Buffer.from((await readFile(good.csrPath, 'utf8')).replace(/-----[^-]+-----|\s/g, ''), 'base64');
  t.throws(() => parseCsr(der.subarray(0, der.length - 10)), { code: 'csrMalformed' }, 'truncated');
  t.throws(() => parseCsr(Buffer.concat([der, Buffer.from([0])])), { code: 'csrMalformed' }, 'trailing byte');

  const badSig = Buffer.from(der);
  badSig[badSig.length - 1]! ^= 0x01;
  t.throws(() => parseCsr(badSig), { code: 'csrBadSignature' });
  // Tamper with the signed part instead: the subject CN text.
  const tampered = Buffer.from(der);
  const at = tampered.indexOf(Buffer.from('ignored'));
  tampered[at] = 'I'.charCodeAt(0);
  t.throws(() => parseCsr(tampered), { code: 'csrBadSignature' });

  const weak = await opensslCsr(dir, 'rsa1024', ['-newkey', 'rsa:1024']);
  const weakDer = await readFile(weak.csrPath);
  t.throws(() => parseCsr(weakDer), { code: 'csrKeyTooWeak', message: /1024 bits/ });

  const p384 = await opensslCsr(dir, 'p384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384']);
  const p384Der = await readFile(p384.csrPath);
  t.throws(() => parseCsr(p384Der), { code: 'csrKeyTypeUnsupported' });

  const ed = await opensslCsr(dir, 'ed25519', ['-newkey', 'ed25519']);
  const edDer = await readFile(ed.csrPath);
  t.throws(() => parseCsr(edDer), { code: 'csrKeyTypeUnsupported' });

  const pss = await opensslCsr(dir, 'pss', ['-newkey', 'rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048']);
  const pssDer = await readFile(pss.csrPath);
  t.throws(() => parseCsr(pssDer), { code: 'csrKeyTypeUnsupported' });

  const sha1 = await opensslCsr(dir, 'sha1', ['-newkey', 'rsa:2048', '-sha1']);
  const sha1Der = await readFile(sha1.csrPath);
  t.throws(() => parseCsr(sha1Der), { code: 'csrSignatureAlgorithmUnsupported' });
});
