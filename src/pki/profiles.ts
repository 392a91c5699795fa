// The CA hierarchy and certificate profiles as data (step-ca style): builders
// read these objects instead of branching on the CA name. Every name carries
// the word TEST so nothing we issue can be mistaken for a real J-LIS one.
import type { DistinguishedName } from './name.js';
import { OID } from './oids.js';

export const CA_IDS = ['signature', 'userAuthentication'] as const;
export type CaId = (typeof CA_IDS)[number];
export const isCaId = (s: string): s is CaId => (CA_IDS as readonly string[]).includes(s);

export type KeyUsageName = 'digitalSignature' | 'nonRepudiation' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign';
/** Bit positions from RFC 5280 §4.2.1.3. */
export const KEY_USAGE_BIT: Record<KeyUsageName, number> = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  keyCertSign: 5,
  cRLSign: 6,
};

export interface EndEntityProfile {
  keyUsage: readonly KeyUsageName[];
  policyOid: string;
  /** Signature certificates carry the basic facts in subjectAltName; user-auth ones carry nothing personal. */
  basicFactsInSubjectAltName: boolean;
}

export interface CaProfile {
  id: CaId;
  subject: DistinguishedName;
  responderSubject: DistinguishedName;
  caKeyUsage: readonly KeyUsageName[];
  endEntity: EndEntityProfile;
}

const BASE: DistinguishedName = [
  ['C', 'JP'],
  ['O', 'JPKI-TEST'],
];

export const CA_PROFILES: Readonly<Record<CaId, CaProfile>> = {
  signature: {
    id: 'signature',
    subject: [...BASE, ['OU', 'JPKI-TEST for digital signature']],
    responderSubject: [...BASE, ['OU', 'JPKI-TEST for digital signature'], ['CN', 'JPKI-TEST OCSP Responder for digital signature']],
    caKeyUsage: ['keyCertSign', 'cRLSign'],
    endEntity: {
      keyUsage: ['digitalSignature', 'nonRepudiation'],
      policyOid: OID.jpkiSignaturePolicy,
      basicFactsInSubjectAltName: true,
    },
  },
  userAuthentication: {
    id: 'userAuthentication',
    subject: [...BASE, ['OU', 'JPKI-TEST for user authentication']],
    responderSubject: [...BASE, ['OU', 'JPKI-TEST for user authentication'], ['CN', 'JPKI-TEST OCSP Responder for user authentication']],
    caKeyUsage: ['keyCertSign', 'cRLSign'],
    endEntity: {
      keyUsage: ['digitalSignature'],
      policyOid: OID.jpkiUserAuthenticationPolicy,
      basicFactsInSubjectAltName: false,
    },
  },
};

/** Where relying parties find our CRL, OCSP responder and CA certificate. */
export function pkiUrls(baseUrl: string, ca: CaId): { crl: string; ocsp: string; caIssuers: string } {
  const base = baseUrl.replace(/\/+$/, '');
  return { crl: `${base}/pki/${ca}/crl`, ocsp: `${base}/pki/${ca}/ocsp`, caIssuers: `${base}/pki/${ca}/ca.crt` };
}

/** Delegated OCSP responder certificates are short-lived (RFC 6960 §4.2.2.2.1, no revocation check). */
export const RESPONDER_VALIDITY_DAYS = 30;
