import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  buildEndEntityCertificate,
  buildOcspResponse,
  buildOcspResponses,
  decodeOcspGetRequest,
  generateResidentKeyPair,
  matchCertId,
  ocspErrorResponse,
  parseOcspRequest,
  toPem,
  type OcspCertStatus,
} from '../../src/pki/index.js';
import { children, readOne } from '../../src/pki/der-read.js';
import { readOcspStatus } from '../../src/pki/status-read.js';
import { BASE_URL, DAY, makeCa, now, openssl, put, tempDir } from './helpers.js';

const [sig, auth] = await Promise.all([makeCa('signature'), makeCa('userAuthentication')]);
const dir = await tempDir(t);
const keys = await generateResidentKeyPair();
const cert = await buildEndEntityCertificate({
  issuer: sig.id,
  caPrivateKey: sig.key,
  spki: keys.spki,
  notBefore: new Date(now().getTime() - DAY),
  notAfter: new Date(now().getTime() + 365 * DAY),
  baseUrl: BASE_URL,
  basicFacts: { name: 'テスト 花子', sex: '2', dateOfBirth: '2001-02-03', address: '大阪府大阪市' },
});
const caPath = await put(dir, 'ca.pem', sig.pem);
const certPath = await put(dir, 'cert.pem', toPem(cert.der));

async function opensslRequest(name: string, extra: string[] = []): Promise<Buffer> {
  const out = join(dir, name);
  const r = await openssl(['ocsp', '-issuer', caPath, ...extra, '-cert', certPath, '-reqout', out]);
  if (r.code !== 0) throw new Error(r.stderr);
  return readFile(out);
}

/** Checks a response the way a relying party would, with openssl building its own CertID. */
async function judge(name: string, resp: Buffer, extra: string[] = []) {
  const path = await put(dir, name, resp);
  return openssl(['ocsp', '-respin', path, '-issuer', caPath, ...extra, '-cert', certPath, '-CAfile', caPath, '-no_nonce', '-resp_text']);
}

t.test('SHA-1 and SHA-256 CertIDs from `openssl ocsp -reqout` parse and match our CA', async (t) => {
  const sha1 = parseOcspRequest(await opensslRequest('req1.der'));
  t.equal(sha1.certIds.length, 1);
  t.equal(sha1.certIds[0]!.hashAlgorithm, 'sha1');
  t.equal(sha1.certIds[0]!.serial, cert.serial);
  t.ok(sha1.nonce, 'openssl sends a nonce by default');
  t.equal(matchCertId(sha1.certIds[0]!, [auth.id, sig.id])?.ca, 'signature');
  t.equal(matchCertId(sha1.certIds[0]!, [auth.id]), null, 'another issuer → caller answers unauthorized');

  const sha256 = parseOcspRequest(await opensslRequest('req256.der', ['-sha256', '-no_nonce']));
  t.equal(sha256.certIds[0]!.hashAlgorithm, 'sha256');
  t.equal(sha256.certIds[0]!.issuerNameHash.length, 32);
  t.equal(sha256.nonce, null);
  t.equal(matchCertId(sha256.certIds[0]!, [sig.id])?.ca, 'signature');

  const sha384 = parseOcspRequest(await opensslRequest('req384.der', ['-sha384']));
  t.equal(sha384.certIds[0]!.hashAlgorithm, '2.16.840.1.101.3.4.2.2', 'unsupported hash: OID kept');
  t.equal(matchCertId(sha384.certIds[0]!, [sig.id]), null);
});

t.test('good, revoked (with reason), certificateHold and unknown are accepted by `openssl ocsp`', async (t) => {
  const thisUpdate = new Date(now().getTime() - 60_000 + 789);
  const nextUpdate = new Date(thisUpdate.getTime() + 4 * DAY);
  const revokedAt = new Date('2026-01-15T09:00:00Z');
  const cases: Array<[OcspCertStatus, RegExp]> = [
    [{ status: 'good' }, /cert\.pem: good\n/],
    [{ status: 'revoked', revokedAt, reason: 'keyCompromise' }, /cert\.pem: revoked\n[\s\S]*Reason: keyCompromise\n\s+Revocation Time: Jan 15 09:00:00 2026 GMT/],
    [{ status: 'revoked', revokedAt, reason: 'certificateHold' }, /cert\.pem: revoked\n[\s\S]*Reason: certificateHold/],
    [{ status: 'revoked', revokedAt }, /cert\.pem: revoked\n\s+This Update/],
    [{ status: 'unknown' }, /cert\.pem: unknown\n/],
  ];
  for (const [status, expected] of cases) {
    for (const hashAlgorithm of ['sha1', 'sha256'] as const) {
      const resp = await buildOcspResponse({ issuer: sig.id, responder: sig.responder, serial: cert.serial, status, thisUpdate, nextUpdate, hashAlgorithm });
      const r = await judge(`${status.status}-${hashAlgorithm}.der`, resp, hashAlgorithm === 'sha256' ? ['-sha256'] : []);
      const label = `${JSON.stringify(status)} ${hashAlgorithm}`;
      t.equal(r.code, 0, `${label}: ${r.stderr}`);
      t.match(r.stderr, /Response verify OK/, label);
      t.match(r.stdout, expected, label);
      t.match(r.stdout, new RegExp(`Hash Algorithm: ${hashAlgorithm}\\n`), label);
      t.equal(responseDataFirstTag(resp), 0xa2, 'ResponseData starts with responderID byKey: version left at its default');
      t.match(r.stdout, /Responder Id: [0-9A-F]{40}\n/, 'byKey');
      t.notMatch(r.stdout, /\.\d+Z|Nonce/, 'no fractional seconds, no nonce');
    }
  }
});

t.test('both CertID variants at once (what the service pre-signs and stores): two responses, one CertID each', async (t) => {
  const thisUpdate = now();
  const input = { issuer: sig.id, responder: sig.responder, serial: cert.serial, status: { status: 'revoked' as const, revokedAt: thisUpdate, reason: 'keyCompromise' as const }, thisUpdate, nextUpdate: new Date(thisUpdate.getTime() + DAY) };
  const both = await buildOcspResponses(input);
  t.same(Object.keys(both).sort(), ['sha1', 'sha256']);
  for (const hash of ['sha1', 'sha256'] as const) {
    t.same(both[hash], await buildOcspResponse({ ...input, hashAlgorithm: hash }), `${hash}: the same bytes as signed alone`);
    t.match(readOcspStatus(both[hash]), { serial: cert.serial, hashAlgorithm: hash, status: 'revoked', reason: 'keyCompromise' });
    const judged = await judge(`both-${hash}.der`, both[hash], [`-${hash}`]);
    t.equal(judged.code, 0, `openssl ocsp -${hash} accepts its variant`);
    t.match(judged.stdout, /cert\.pem: revoked/);
  }
  const wrongVariant = await judge('mismatch.der', both.sha1, ['-sha256']);
  t.notMatch(wrongVariant.stdout, /cert\.pem: revoked/, 'a SHA-1 answer does not satisfy a SHA-256 question');
});

t.test('`openssl ocsp -reqin … -respin …` with a nonce: verifies, warns about the missing nonce', async (t) => {
  const req = join(dir, 'req1.der');
  const resp = await buildOcspResponse({ issuer: sig.id, responder: sig.responder, serial: cert.serial, status: { status: 'good' }, thisUpdate: now(), nextUpdate: new Date(now().getTime() + DAY), hashAlgorithm: 'sha1' });
  const respPath = await put(dir, 'nonce-resp.der', resp);
  const r = await openssl(['ocsp', '-reqin', req, '-respin', respPath, '-CAfile', caPath, '-resp_text']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /WARNING: no nonce in response/);
  t.match(r.stderr, /Response verify OK/);
  t.match(r.stdout, /Cert Status: good/);
});

t.test('a response signed by another CA’s responder is rejected by openssl', async (t) => {
  const resp = await buildOcspResponse({ issuer: sig.id, responder: auth.responder, serial: cert.serial, status: { status: 'good' }, thisUpdate: now(), nextUpdate: new Date(now().getTime() + DAY), hashAlgorithm: 'sha1' });
  const r = await judge('foreign.der', resp);
  t.notMatch(r.stderr, /Response verify OK/);
});

t.test('malformed requests get a distinct error', async (t) => {
  for (const bytes of [Buffer.from('garbage'), Buffer.alloc(0), Buffer.from('3000', 'hex'), Buffer.from('300530030201', 'hex')]) {
    t.throws(() => parseOcspRequest(bytes), { code: 'ocspMalformedRequest' }, bytes.toString('hex'));
  }
  const good = await readFile(join(dir, 'req1.der'));
  t.throws(() => parseOcspRequest(good.subarray(0, good.length - 1)), { code: 'ocspMalformedRequest' }, 'truncated');
  t.throws(() => parseOcspRequest(cert.der), { code: 'ocspMalformedRequest' }, 'a certificate is not a request');
});

t.test('GET request encodings', async (t) => {
  const der = await readFile(join(dir, 'req1.der'));
  const b64 = der.toString('base64');
  t.same(decodeOcspGetRequest(encodeURIComponent(b64)), der, 'URL-encoded base64 (RFC 6960 A.1)');
  t.same(decodeOcspGetRequest(b64), der, 'raw base64');
  t.same(decodeOcspGetRequest(der.toString('base64url')), der, 'base64url');
  t.same(decodeOcspGetRequest(b64.replace(/\+/g, ' ')), der, '+ turned into space');
  t.throws(() => decodeOcspGetRequest('%zz'), { code: 'ocspMalformedRequest' });
  t.throws(() => decodeOcspGetRequest('!!!'), { code: 'ocspMalformedRequest' });
});

t.test('unsigned error responses', async (t) => {
  const expected = { malformedRequest: 1, internalError: 2, tryLater: 3, sigRequired: 5, unauthorized: 6 } as const;
  for (const [status, code] of Object.entries(expected)) {
    const der = ocspErrorResponse(status as keyof typeof expected);
    t.equal(der.toString('hex'), `30030a01${code.toString(16).padStart(2, '0')}`);
    const path = await put(dir, `${status}.der`, der);
    const r = await openssl(['ocsp', '-respin', path, '-resp_text', '-noverify']);
    t.match(r.stdout + r.stderr, new RegExp(`Responder Error: ${status.toLowerCase()} \\(${code}\\)`), status);
  }
  t.throws(() => ocspErrorResponse('successful' as never), { code: 'invalidArgument' });
});

/** OCSPResponse → responseBytes → BasicOCSPResponse → ResponseData → first field's tag. */
function responseDataFirstTag(resp: Buffer): number {
  const [, bytes] = children(readOne(resp));
  const [, octets] = children(children(bytes!)[0]!);
  const [tbs] = children(readOne(octets!.value));
  return children(tbs!)[0]!.tag;
}
