// Just enough certificate parsing for chaining, OCSP issuer hashes and the
// verify helper; the raw views keep the exact signed bytes.
import { bitStringBytes, children, decodeOid, decodeTime, DerError, expect, integerHex, readOne } from './der-read.js';
import { PkiError } from './errors.js';

export interface ParsedCertificate {
  der: Buffer;
  tbs: Buffer;
  serial: string;
  signatureAlgorithm: string;
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  signature: Buffer;
}

export function parseCertificate(der: Uint8Array): ParsedCertificate {
  const buf = Buffer.from(der);
  try {
    const [tbsNode, algNode, sigNode] = children(readOne(buf, 0x30));
    const tbs = expect(tbsNode, 0x30, 'tbsCertificate');
    let f = children(tbs);
    if (f[0]?.tag === 0xa0) f = f.slice(1); // explicit version
    const [serial, , issuer, validity, subject, spki] = f;
    const [nb, na] = children(expect(validity, 0x30, 'validity'));
    return {
      der: buf,
      tbs: tbs.raw,
      serial: integerHex(expect(serial, 0x02, 'serialNumber')),
      signatureAlgorithm: decodeOid(children(expect(algNode, 0x30, 'signatureAlgorithm'))[0]!),
      issuer: expect(issuer, 0x30, 'issuer').raw,
      subject: expect(subject, 0x30, 'subject').raw,
      notBefore: decodeTime(nb!),
      notAfter: decodeTime(na!),
      spki: expect(spki, 0x30, 'subjectPublicKeyInfo').raw,
      signature: bitStringBytes(expect(sigNode, 0x03, 'signature')),
    };
  } catch (e) {
    if (e instanceof DerError || e instanceof TypeError) throw new PkiError('certificateMalformed', `malformed certificate: ${e.message}`, { cause: e });
    throw e;
  }
}
