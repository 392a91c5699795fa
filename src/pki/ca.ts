// The two issuing CAs and their delegated OCSP responders.
import { createHash, type KeyObject } from 'node:crypto';
import { buildCertificate, type IssuedCertificate } from './certificate.js';
import { parseCertificate } from './cert-parse.js';
import {
  authorityKeyIdentifier,
  basicConstraintsCa,
  extKeyUsage,
  keyIdentifier,
  keyUsage,
  ocspNoCheck,
  subjectKeyIdentifier,
  subjectPublicKeyBits,
} from './extensions.js';
import { encodeName } from './name.js';
import { OID } from './oids.js';
import { CA_PROFILES, RESPONDER_VALIDITY_DAYS, type CaId } from './profiles.js';
import { generateSerial } from './serial.js';
import { spkiDer } from './keys.js';

export interface CaCertificateInput {
  ca: CaId;
  privateKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  serial?: string;
}

/** Self-signed root: basicConstraints CA (critical), keyCertSign+cRLSign, SKI. */
export function buildCaCertificate(input: CaCertificateInput): Promise<IssuedCertificate> {
  const profile = CA_PROFILES[input.ca];
  const spki = spkiDer(input.privateKey);
  const name = encodeName(profile.subject);
  const keyId = keyIdentifier(spki);
  return buildCertificate({
    serial: input.serial ?? generateSerial(),
    issuer: name,
    subject: name,
    notBefore: input.notBefore,
    notAfter: input.notAfter,
    spki,
    signingKey: input.privateKey,
    extensions: [basicConstraintsCa(), keyUsage(profile.caKeyUsage), subjectKeyIdentifier(keyId), authorityKeyIdentifier(keyId)],
  });
}

/**
 * What issuing, CRLs and OCSP need to know about a CA, derived once from its
 * certificate: the exact subject bytes (issuer of everything it signs), its key
 * identifier, and the OCSP CertID hashes in both supported algorithms.
 */
export interface CaIdentity {
  ca: CaId;
  certificate: Buffer;
  subject: Buffer;
  keyId: Buffer;
  nameHash: Record<OcspHash, Buffer>;
  keyHash: Record<OcspHash, Buffer>;
}

export type OcspHash = 'sha1' | 'sha256';
export const OCSP_HASHES: readonly OcspHash[] = ['sha1', 'sha256'];

export function caIdentity(ca: CaId, certificateDer: Uint8Array): CaIdentity {
  const cert = parseCertificate(certificateDer);
  const keyBits = subjectPublicKeyBits(cert.spki);
  const h = (alg: OcspHash, data: Buffer): Buffer => createHash(alg).update(data).digest();
  return {
    ca,
    certificate: cert.der,
    subject: cert.subject,
    keyId: h('sha1', keyBits),
    nameHash: { sha1: h('sha1', cert.subject), sha256: h('sha256', cert.subject) },
    keyHash: { sha1: h('sha1', keyBits), sha256: h('sha256', keyBits) },
  };
}

export interface ResponderCertificateInput {
  issuer: CaIdentity;
  caPrivateKey: KeyObject;
  responderPublicKey: KeyObject;
  notBefore: Date;
  /** Defaults to notBefore + RESPONDER_VALIDITY_DAYS. */
  notAfter?: Date;
  serial?: string;
}

/** Delegated responder: EKU OCSPSigning and id-pkix-ocsp-nocheck, short-lived instead of revocable. */
export function buildResponderCertificate(input: ResponderCertificateInput): Promise<IssuedCertificate> {
  const profile = CA_PROFILES[input.issuer.ca];
  const spki = spkiDer(input.responderPublicKey);
  return buildCertificate({
    serial: input.serial ?? generateSerial(),
    issuer: input.issuer.subject,
    subject: encodeName(profile.responderSubject),
    notBefore: input.notBefore,
    notAfter: input.notAfter ?? new Date(input.notBefore.getTime() + RESPONDER_VALIDITY_DAYS * 86_400_000),
    spki,
    signingKey: input.caPrivateKey,
    extensions: [
      keyUsage(['digitalSignature']),
      extKeyUsage(OID.kpOcspSigning),
      ocspNoCheck(),
      subjectKeyIdentifier(keyIdentifier(spki)),
      authorityKeyIdentifier(input.issuer.keyId),
    ],
  });
}

/**
 * True when the responder certificate should be replaced: it expires within
 * `renewBeforeMs` (default a third of its lifetime — 10 days for 30) or has
 * already expired or is not yet valid. Pre-signed responses must be re-signed
 * with the new certificate too, since they embed it.
 */
export function responderNeedsRenewal(certificateDer: Uint8Array, now: Date, renewBeforeMs?: number): boolean {
  const { notBefore, notAfter } = parseCertificate(certificateDer);
  const margin = renewBeforeMs ?? (notAfter.getTime() - notBefore.getTime()) / 3;
  return now.getTime() < notBefore.getTime() || now.getTime() >= notAfter.getTime() - margin;
}
