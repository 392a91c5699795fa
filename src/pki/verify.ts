// Does a presented certificate come from one of our CAs? Only the chain
// signature and facts from the certificate; revocation status is the
// service's to add from its own records.
import { createPublicKey, verify } from 'node:crypto';
import type { CaIdentity } from './ca.js';
import { parseCertificate } from './cert-parse.js';
import { fromPem } from './certificate.js';
import { PkiError } from './errors.js';
import { OID } from './oids.js';
import type { CaId } from './profiles.js';

const HASH_BY_SIG: Record<string, string> = {
  [OID.sha256WithRSAEncryption]: 'sha256',
  [OID.sha384WithRSAEncryption]: 'sha384',
  [OID.sha512WithRSAEncryption]: 'sha512',
};

export interface VerifyResult {
  /** True when the signature verifies under one of the given CAs. */
  chained: boolean;
  ca: CaId | null;
  /** Lowercase hex, no leading zeros. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

/** Throws PkiError certificateMalformed when the input is not a certificate at all. */
export function verifyCertificate(input: string | Uint8Array, cas: Iterable<CaIdentity>): VerifyResult {
  let der: Buffer;
  try {
    der = fromPem(input);
  } catch (e) {
    throw new PkiError('certificateMalformed', 'no certificate in the input', { cause: e });
  }
  const cert = parseCertificate(der);
  const hash = HASH_BY_SIG[cert.signatureAlgorithm];
  let match: CaId | null = null;
  if (hash) {
    for (const ca of cas) {
      if (!ca.subject.equals(cert.issuer)) continue;
      const caKey = createPublicKey({ key: parseCertificate(ca.certificate).spki, format: 'der', type: 'spki' });
      if (verify(hash, cert.tbs, caKey, cert.signature)) {
        match = ca.ca;
        break;
      }
    }
  }
  return { chained: match !== null, ca: match, serial: cert.serial, notBefore: cert.notBefore, notAfter: cert.notAfter };
}
