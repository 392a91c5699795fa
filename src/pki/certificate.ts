// Generic X.509 v3 certificate assembly; CA, responder and end-entity builders
// supply names, key and extensions from the profiles.
import type { KeyObject } from 'node:crypto';
import { ctx, integer, integerFromBytes, seq, truncateToSeconds, x509Time } from './der.js';
import { PkiError } from './errors.js';
import { checkedSpki } from './keys.js';
import { encodeExtension, type Extension } from './extensions.js';
import { serialBytes, normalizeSerial } from './serial.js';
import { signatureAlgorithmFor, signed } from './sign.js';

export interface CertificateSpec {
  serial: string;
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  spki: Uint8Array;
  extensions: Extension[];
  signingKey: KeyObject;
}

export interface IssuedCertificate {
  der: Buffer;
  /** Lowercase hex, no leading zeros. */
  serial: string;
  /** Truncated to whole seconds, as encoded. */
  notBefore: Date;
  notAfter: Date;
}

export async function buildCertificate(spec: CertificateSpec): Promise<IssuedCertificate> {
  const notBefore = truncateToSeconds(spec.notBefore);
  const notAfter = truncateToSeconds(spec.notAfter);
  if (!(notAfter.getTime() > notBefore.getTime())) throw new PkiError('invalidArgument', 'notAfter must be after notBefore');
  const serial = normalizeSerial(spec.serial);
  try {
    checkedSpki(spec.spki);
  } catch (cause) {
    throw new PkiError('invalidArgument', 'spki is not a SubjectPublicKeyInfo', { cause });
  }
  const algId = signatureAlgorithmFor(spec.signingKey);
  const tbs = seq(
    ctx(0, integer(2)), // v3
    integerFromBytes(serialBytes(serial)),
    algId,
    spec.issuer,
    seq(x509Time(notBefore), x509Time(notAfter)),
    spec.subject,
    Buffer.from(spec.spki),
    ctx(3, seq(...spec.extensions.map(encodeExtension))),
  );
  return { der: await signed(tbs, spec.signingKey, algId), serial, notBefore, notAfter };
}

export const toPem = (der: Uint8Array, label = 'CERTIFICATE'): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;

/** DER from PEM (the first block with the label), or DER bytes passed through. */
export function fromPem(input: string | Uint8Array, label = 'CERTIFICATE'): Buffer {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  if (typeof input !== 'string' && !text.includes('-----BEGIN')) return Buffer.from(input);
  const m = text.match(new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]*?)-----END ${label}-----`));
  if (!m) throw new PkiError('invalidArgument', `no ${label} PEM block`);
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}
