// Residents' certificates, shaped by the issuing CA's profile.
import { randomBytes, type KeyObject } from 'node:crypto';
import { basicFactsGeneralNames, type BasicFacts } from './basic-facts.js';
import type { CaIdentity } from './ca.js';
import { buildCertificate, type IssuedCertificate } from './certificate.js';
import { PkiError } from './errors.js';
import {
  authorityInfoAccess,
  authorityKeyIdentifier,
  certificatePolicies,
  crlDistributionPoint,
  keyIdentifier,
  keyUsage,
  subjectAltName,
  subjectKeyIdentifier,
  type Extension,
} from './extensions.js';
import { encodeName } from './name.js';
import { CA_PROFILES, pkiUrls } from './profiles.js';
import { generateSerial } from './serial.js';

export interface EndEntityInput {
  issuer: CaIdentity;
  caPrivateKey: KeyObject;
  /** SubjectPublicKeyInfo DER: from parseCsr() or generateResidentKeyPair(). */
  spki: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** PUBLIC_BASE_URL; CRL/OCSP/caIssuers URLs are `${baseUrl}/pki/${ca}/...`. */
  baseUrl: string;
  serial?: string;
  /** Random identifier put in the subject CN; generated (16 bytes hex) when absent. */
  subjectId?: string;
  /** Required for the signature CA, forbidden for user authentication (no personal data). */
  basicFacts?: BasicFacts;
}

export interface IssuedEndEntity extends IssuedCertificate {
  subjectId: string;
}

export const generateSubjectId = (): string => randomBytes(16).toString('hex');

export async function buildEndEntityCertificate(input: EndEntityInput): Promise<IssuedEndEntity> {
  const ca = input.issuer.ca;
  const profile = CA_PROFILES[ca].endEntity;
  if (profile.basicFactsInSubjectAltName && !input.basicFacts) {
    throw new PkiError('invalidArgument', `${ca} certificates need the basic facts`);
  }
  if (!profile.basicFactsInSubjectAltName && input.basicFacts) {
    throw new PkiError('invalidArgument', `${ca} certificates must not carry personal data`);
  }
  const subjectId = input.subjectId ?? generateSubjectId();
  if (!/^[0-9A-Za-z-]{1,64}$/.test(subjectId)) throw new PkiError('invalidArgument', 'subjectId must be 1-64 letters, digits or hyphens');
  const urls = pkiUrls(input.baseUrl, ca);
  const extensions: Extension[] = [
    keyUsage(profile.keyUsage),
    certificatePolicies(profile.policyOid),
    subjectKeyIdentifier(keyIdentifier(input.spki)),
    authorityKeyIdentifier(input.issuer.keyId),
    crlDistributionPoint(urls.crl),
    authorityInfoAccess(urls.ocsp, urls.caIssuers),
  ];
  if (input.basicFacts) extensions.push(subjectAltName(basicFactsGeneralNames(input.basicFacts)));
  const cert = await buildCertificate({
    serial: input.serial ?? generateSerial(),
    issuer: input.issuer.subject,
    subject: encodeName([
      ['C', 'JP'],
      ['O', 'JPKI-TEST'],
      ['CN', subjectId],
    ]),
    notBefore: input.notBefore,
    notAfter: input.notAfter,
    spki: input.spki,
    signingKey: input.caPrivateKey,
    extensions,
  });
  return { ...cert, subjectId };
}
