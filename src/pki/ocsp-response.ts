// OCSP responses (RFC 6960 §4.2, RFC 5019 profile). Designed for pre-signing:
// the service signs a certificate's responses whenever its status changes (and
// again at half-life), stores the bytes, and the hot path only looks them up.
// One response answers one CertID hash algorithm: a response carrying both
// variants would be allowed (RFC 6960 §4.2.2.3) but is refused by common
// clients (Go's ocsp.ParseResponse, hence cfssl), so the SHA-1 and SHA-256
// variants are two responses, signed side by side (buildOcspResponses). Hence
// no nonce, and a CertID we build ourselves (openssl matches CertIDs field by
// field, not byte for byte).
import { createHash, type KeyObject } from 'node:crypto';
import { OCSP_HASHES, type CaIdentity, type OcspHash } from './ca.js';
import { parseCertificate } from './cert-parse.js';
import { algorithm, ctx, enumerated, generalizedTime, integerFromBytes, NULL, octets, oid, seq, truncateToSeconds } from './der.js';
import { PkiError } from './errors.js';
import { REVOCATION_REASONS, type RevocationReason } from './crl.js';
import { subjectPublicKeyBits } from './extensions.js';
import { OID } from './oids.js';
import { serialBytes } from './serial.js';
import { signatureAlgorithmFor, signTbs } from './sign.js';

export type OcspCertStatus =
  | { status: 'good' }
  | { status: 'revoked'; revokedAt: Date; reason?: RevocationReason }
  | { status: 'unknown' };

export interface OcspResponder {
  certificate: Buffer;
  privateKey: KeyObject;
  /** SHA-1 of the responder's public key bits: ResponderID byKey. */
  keyId: Buffer;
  notAfter: Date;
}

export function ocspResponder(certificateDer: Uint8Array, privateKey: KeyObject): OcspResponder {
  const cert = parseCertificate(certificateDer);
  return {
    certificate: cert.der,
    privateKey,
    keyId: createHash('sha1').update(subjectPublicKeyBits(cert.spki)).digest(),
    notAfter: cert.notAfter,
  };
}

export interface OcspResponseInput {
  issuer: CaIdentity;
  responder: OcspResponder;
  serial: string;
  status: OcspCertStatus;
  /** When the status was known to be correct (usually the signing time). */
  thisUpdate: Date;
  nextUpdate: Date;
  /** Signing time; defaults to thisUpdate. */
  producedAt?: Date;
}

function certStatus(s: OcspCertStatus): Buffer {
  switch (s.status) {
    case 'good':
      return Buffer.from([0x80, 0x00]); // [0] IMPLICIT NULL
    case 'unknown':
      return Buffer.from([0x82, 0x00]); // [2] IMPLICIT NULL
    case 'revoked': {
      const reason = s.reason === undefined || s.reason === 'unspecified' ? null : REVOCATION_REASONS[s.reason];
      if (reason === undefined) throw new PkiError('invalidArgument', `unknown revocation reason ${String(s.reason)}`);
      const time = generalizedTime(truncateToSeconds(s.revokedAt));
      return reason === null ? ctx(1, time) : ctx(1, time, ctx(0, enumerated(reason)));
    }
  }
}

// What every response of one responder shares, encoded once: responderID and the certs field
// (the ~1 KB responder certificate each response ends with).
const responderParts = new WeakMap<OcspResponder, { responderId: Buffer; certs: Buffer; algId: Buffer }>();
function partsOf(responder: OcspResponder) {
  let parts = responderParts.get(responder);
  if (!parts) {
    parts = { responderId: ctx(2, octets(responder.keyId)), certs: ctx(0, seq(responder.certificate)), algId: signatureAlgorithmFor(responder.privateKey) };
    responderParts.set(responder, parts);
  }
  return parts;
}
const HASH_ALGORITHM: Record<OcspHash, Buffer> = { sha1: algorithm(OID.sha1, NULL), sha256: algorithm(OID.sha256, NULL) };
const SUCCESSFUL = enumerated(0);

/** A successful OCSPResponse (DER) for one certificate, CertID hashed with `hashAlgorithm`. */
export async function buildOcspResponse(input: OcspResponseInput & { hashAlgorithm: OcspHash }): Promise<Buffer> {
  return signResponse(input, input.hashAlgorithm, responseParts(input));
}

/**
 * Both CertID variants (SHA-1 and SHA-256), two responses of one SingleResponse each: what the
 * service stores per status change. The status and times are encoded once and both signatures are
 * started together, so they run side by side on the thread pool (pki/sign.ts).
 */
export async function buildOcspResponses(input: OcspResponseInput): Promise<Record<OcspHash, Buffer>> {
  const parts = responseParts(input);
  const signed = await Promise.all(OCSP_HASHES.map((h) => signResponse(input, h, parts)));
  return Object.fromEntries(OCSP_HASHES.map((h, i) => [h, signed[i]!])) as Record<OcspHash, Buffer>;
}

interface ResponseParts { status: Buffer; thisUpdate: Buffer; nextUpdate: Buffer; producedAt: Buffer }

function responseParts(input: OcspResponseInput): ResponseParts {
  const thisUpdate = truncateToSeconds(input.thisUpdate);
  const nextUpdate = truncateToSeconds(input.nextUpdate);
  if (!(nextUpdate > thisUpdate)) throw new PkiError('invalidArgument', 'nextUpdate must be after thisUpdate');
  return {
    status: certStatus(input.status),
    thisUpdate: generalizedTime(thisUpdate),
    nextUpdate: ctx(0, generalizedTime(nextUpdate)),
    producedAt: generalizedTime(truncateToSeconds(input.producedAt ?? thisUpdate)),
  };
}

async function signResponse(input: OcspResponseInput, h: OcspHash, parts: ResponseParts): Promise<Buffer> {
  const certId = seq(
    HASH_ALGORITHM[h],
    octets(input.issuer.nameHash[h]),
    octets(input.issuer.keyHash[h]),
    integerFromBytes(serialBytes(input.serial)),
  );
  const single = seq(certId, parts.status, parts.thisUpdate, parts.nextUpdate);
  // version left out (DEFAULT v1 must not be encoded); responderID [2] byKey.
  const { responderId, certs, algId } = partsOf(input.responder);
  const responseData = seq(responderId, parts.producedAt, seq(single));
  const basic = seq(...(await signTbs(responseData, input.responder.privateKey, algId)), certs);
  return seq(SUCCESSFUL, ctx(0, seq(oid(OID.ocspBasic), octets(basic))));
}

export const OCSP_RESPONSE_STATUS = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
} as const;
export type OcspErrorStatus = Exclude<keyof typeof OCSP_RESPONSE_STATUS, 'successful'>;

// Unsigned, constant: computed once.
const ERROR_RESPONSES = Object.fromEntries(
  Object.entries(OCSP_RESPONSE_STATUS)
    .filter(([k]) => k !== 'successful')
    .map(([k, v]) => [k, seq(enumerated(v))]),
) as Record<OcspErrorStatus, Buffer>;

/** OCSPResponse with only a responseStatus (no responseBytes), e.g. malformedRequest or unauthorized. */
export function ocspErrorResponse(status: OcspErrorStatus): Buffer {
  const r = ERROR_RESPONSES[status];
  if (!r) throw new PkiError('invalidArgument', `not an OCSP error status: ${String(status)}`);
  return Buffer.from(r);
}

