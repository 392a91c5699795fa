import t from 'tap';
import { readFile } from 'node:fs/promises';
import { buildCrl, buildEndEntityCertificate, generateSerial, PackedCrlEntries, parseCsr, toPem, type CrlEntry } from '../../src/pki/index.js';
import { BASE_URL, DAY, makeCa, now, openssl, opensslCsr, put, tempDir } from './helpers.js';

const ca = await makeCa('signature');
const HOUR = 3_600_000;

async function issue(dir: string, name: string) {
  const { csrPath } = await opensslCsr(dir, name);
  const cert = await buildEndEntityCertificate({
    issuer: ca.id,
    caPrivateKey: ca.key,
    spki: parseCsr(await readFile(csrPath)).spki,
    notBefore: new Date(now().getTime() - HOUR),
    notAfter: new Date(now().getTime() + 365 * DAY),
    baseUrl: BASE_URL,
    subjectId: name,
    basicFacts: { name: 'テスト 太郎', sex: 'male', dateOfBirth: '1975-01-01', address: '東京都新宿区' },
  });
  return { ...cert, path: await put(dir, `${name}.pem`, toPem(cert.der)) };
}

t.test('revoked and held certificates fail `openssl verify -crl_check`; others pass', async (t) => {
  const dir = await tempDir(t);
  const [revoked, held, fine] = await Promise.all([issue(dir, 'revoked'), issue(dir, 'held'), issue(dir, 'fine')]);
  const revokedAt = new Date(now().getTime() - 10 * 60_000);
  const crl = buildCrl({
    issuer: ca.id,
    caPrivateKey: ca.key,
    crlNumber: 7n,
    thisUpdate: new Date(now().getTime() - 60_000 + 456),
    nextUpdate: new Date(now().getTime() + DAY),
    entries: [
      { serial: revoked.serial, revokedAt, reason: 'keyCompromise', invalidityDate: new Date('2026-01-02T03:04:05Z') },
      { serial: held.serial.toUpperCase(), revokedAt, reason: 'certificateHold', invalidityDate: revokedAt },
      { serial: generateSerial(), revokedAt, reason: 'unspecified' },
      { serial: Buffer.from('0080ff', 'hex'), revokedAt, reason: 'superseded', invalidityDate: null },
    ],
  });
  t.equal(crl.entryCount, 4);
  t.equal(crl.crlNumber, 7n);
  t.equal(crl.thisUpdate.getMilliseconds(), 0, 'whole seconds');
  const caPath = await put(dir, 'ca.pem', ca.pem);
  const crlPath = await put(dir, 'crl.pem', toPem(crl.der, 'X509 CRL'));
  await put(dir, 'crl.der', crl.der);

  for (const cert of [revoked, held]) {
    const r = await openssl(['verify', '-crl_check', '-CAfile', caPath, '-CRLfile', crlPath, cert.path]);
    t.not(r.code, 0, `${cert.subjectId} refused`);
    t.match(r.stdout + r.stderr, /certificate revoked/);
  }
  const ok = await openssl(['verify', '-crl_check', '-CAfile', caPath, '-CRLfile', crlPath, fine.path]);
  t.equal(ok.code, 0, ok.stdout + ok.stderr);

  t.equal((await openssl(['crl', '-in', 'crl.der', '-inform', 'DER', '-noout', '-verify', '-CAfile', 'ca.pem'], { cwd: dir })).code, 0, 'signature verifies');
  const text = (await openssl(['crl', '-in', crlPath, '-noout', '-text', '-nameopt', 'sep_comma_plus_space'])).stdout;
  t.match(text, /Version 2 \(0x1\)/);
  t.match(text, /Issuer: C=JP, O=JPKI-TEST, OU=JPKI-TEST for digital signature/);
  t.match(text, /X509v3 CRL Number: \n\s+7\n/);
  t.match(text, /X509v3 Authority Key Identifier/);
  t.match(text, new RegExp(`Serial Number: ${revoked.serial.toUpperCase()}\\n\\s+Revocation Date: .*\\n\\s+CRL entry extensions:\\n\\s+X509v3 CRL Reason Code: \\n\\s+Key Compromise\\n\\s+Invalidity Date: \\n\\s+Jan  2 03:04:05 2026 GMT`));
  t.match(text, new RegExp(`Serial Number: ${held.serial.toUpperCase()}[\\s\\S]*?Certificate Hold`));
  const entries = text.split('Serial Number:').slice(1);
  t.notMatch(entries[2], /Reason Code/, 'unspecified is written as no reasonCode (RFC 5280 §5.3.1)');
  t.match(entries[3], /^ 80FF\n[^S]*CRL Reason Code: \n\s+Superseded\n(?!\s+Invalidity)/, 'serial given as bytes: leading zero dropped, sign octet added');
});

t.test('an empty CRL has no revokedCertificates field', async (t) => {
  const dir = await tempDir(t);
  const crl = buildCrl({ issuer: ca.id, caPrivateKey: ca.key, crlNumber: 1, thisUpdate: now(), nextUpdate: new Date(now().getTime() + DAY), entries: [] });
  const crlPath = await put(dir, 'crl.pem', toPem(crl.der, 'X509 CRL'));
  const caPath = await put(dir, 'ca.pem', ca.pem);
  const r = await openssl(['crl', '-in', crlPath, '-noout', '-text', '-verify', '-CAfile', caPath]);
  t.equal(r.code, 0);
  t.match(r.stdout, /No Revoked Certificates/);
});

t.test('100,000 entries build quickly and openssl reads and verifies them', async (t) => {
  const dir = await tempDir(t);
  const N = 100_000;
  const reasons = ['keyCompromise', 'certificateHold', 'cessationOfOperation', 'affiliationChanged', 'superseded'] as const;
  const base = now().getTime();
  function* entries(): Generator<CrlEntry> {
    for (let i = 0; i < N; i++) {
      yield { serial: (0x4000000000000000n + BigInt(i) * 7919n).toString(16), revokedAt: new Date(base - i * 1000), reason: reasons[i % 5]!, invalidityDate: new Date(base - i * 1000 - HOUR) };
    }
  }
  const t0 = performance.now();
  const crl = buildCrl({ issuer: ca.id, caPrivateKey: ca.key, crlNumber: 2n ** 70n, thisUpdate: now(), nextUpdate: new Date(now().getTime() + DAY), entries: entries() });
  const ms = performance.now() - t0;
  t.comment(`built a ${N}-entry CRL (${(crl.der.length / 1e6).toFixed(1)} MB) in ${ms.toFixed(0)} ms`);
  t.equal(crl.entryCount, N);
  t.ok(ms < 5000, 'well under the budget even on a loaded machine');
  const crlPath = await put(dir, 'big.crl', crl.der);
  const caPath = await put(dir, 'ca.pem', ca.pem);
  const r = await openssl(['crl', '-in', crlPath, '-inform', 'DER', '-noout', '-verify', '-CAfile', caPath, '-crlnumber']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /crlNumber=0x400000000000000000/);
});

t.test('bad input is refused', async (t) => {
  const common = { issuer: ca.id, caPrivateKey: ca.key, crlNumber: 1, thisUpdate: now(), nextUpdate: new Date(now().getTime() + DAY) };
  const at = now();
  t.throws(() => buildCrl({ ...common, nextUpdate: common.thisUpdate, entries: [] }), { code: 'invalidArgument' });
  t.throws(() => buildCrl({ ...common, entries: [{ serial: 'xyz', revokedAt: at, reason: 'keyCompromise' }] }), { code: 'invalidArgument' });
  t.throws(() => buildCrl({ ...common, entries: [{ serial: '00', revokedAt: at, reason: 'keyCompromise' }] }), { code: 'invalidArgument' });
  t.throws(() => buildCrl({ ...common, entries: [{ serial: 'ab', revokedAt: at, reason: 'bogus' as never }] }), { code: 'invalidArgument' });
  t.throws(() => buildCrl({ ...common, entries: [{ serial: 'ab', revokedAt: new Date(NaN), reason: 'keyCompromise' }] }), { code: 'invalidArgument' });
  t.throws(() => buildCrl({ ...common, crlNumber: -1, entries: [] }), { code: 'invalidArgument' });
});

t.test('entries held packed (as the service holds them) give the very CRL their objects give', async (t) => {
  const at = now();
  const objects: CrlEntry[] = Array.from({ length: 200 }, (_, i) => ({
    serial: generateSerial(),
    revokedAt: new Date(at.getTime() - i * 61_000),
    reason: (['affiliationChanged', 'keyCompromise', 'certificateHold', 'unspecified'] as const)[i % 4]!,
    invalidityDate: i % 4 === 1 ? new Date(at.getTime() - i * 3_600_000) : null,
  }));
  const packed = new PackedCrlEntries();
  for (const e of objects) packed.push(e.serial as string, e.revokedAt, e.reason, e.invalidityDate ?? null);
  t.equal(packed.length, 200);
  const input = { issuer: ca.id, caPrivateKey: ca.key, crlNumber: 7, thisUpdate: at, nextUpdate: new Date(at.getTime() + DAY) };
  t.same(buildCrl({ ...input, entries: packed }).der, buildCrl({ ...input, entries: objects }).der);
});
