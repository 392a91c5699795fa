// X.509 extension encoders: each returns the extension's DER value; `extension`
// wraps it with its OID and criticality.
import { createHash } from 'node:crypto';
import { ctx, ctxPrim, namedBits, NULL, octets, oid, seq, TRUE } from './der.js';
import { bitStringBytes, children, expect, readOne } from './der-read.js';
import { OID } from './oids.js';
import { PkiError } from './errors.js';
import { KEY_USAGE_BIT, type KeyUsageName } from './profiles.js';

export interface Extension {
  oid: string;
  critical: boolean;
  value: Buffer;
}

export const encodeExtension = (e: Extension): Buffer =>
  e.critical ? seq(oid(e.oid), TRUE, octets(e.value)) : seq(oid(e.oid), octets(e.value));

/** The subjectPublicKey BIT STRING contents of an SPKI (what key identifiers and OCSP key hashes hash). */
export function subjectPublicKeyBits(spki: Uint8Array): Buffer {
  try {
    const [, bits] = children(readOne(Buffer.from(spki), 0x30));
    return bitStringBytes(expect(bits, 0x03, 'subjectPublicKey'));
  } catch (cause) {
    throw new PkiError('invalidArgument', 'not a SubjectPublicKeyInfo', { cause });
  }
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. */
export const keyIdentifier = (spki: Uint8Array): Buffer => createHash('sha1').update(subjectPublicKeyBits(spki)).digest();

export const basicConstraintsCa = (): Extension => ({
  oid: OID.basicConstraints,
  critical: true,
  value: seq(TRUE),
});

export const keyUsage = (usages: readonly KeyUsageName[]): Extension => ({
  oid: OID.keyUsage,
  critical: true,
  value: namedBits(usages.map((u) => KEY_USAGE_BIT[u])),
});

export const extKeyUsage = (...purposes: string[]): Extension => ({
  oid: OID.extKeyUsage,
  critical: false,
  value: seq(...purposes.map(oid)),
});

export const subjectKeyIdentifier = (keyId: Buffer): Extension => ({
  oid: OID.subjectKeyIdentifier,
  critical: false,
  value: octets(keyId),
});

export const authorityKeyIdentifier = (keyId: Buffer): Extension => ({
  oid: OID.authorityKeyIdentifier,
  critical: false,
  value: seq(ctxPrim(0, keyId)),
});

export const certificatePolicies = (...policyOids: string[]): Extension => ({
  oid: OID.certificatePolicies,
  critical: false,
  value: seq(...policyOids.map((p) => seq(oid(p)))),
});

/** One DistributionPoint with a fullName URI. */
export const crlDistributionPoint = (url: string): Extension => ({
  oid: OID.crlDistributionPoints,
  critical: false,
  value: seq(seq(ctx(0, ctx(0, ctxPrim(6, Buffer.from(url, 'ascii')))))),
});

export const authorityInfoAccess = (ocspUrl: string, caIssuersUrl: string): Extension => ({
  oid: OID.authorityInfoAccess,
  critical: false,
  value: seq(
    seq(oid(OID.adOcsp), ctxPrim(6, Buffer.from(ocspUrl, 'ascii'))),
    seq(oid(OID.adCaIssuers), ctxPrim(6, Buffer.from(caIssuersUrl, 'ascii'))),
  ),
});

/** id-pkix-ocsp-nocheck: relying parties need not check the responder certificate's status. */
export const ocspNoCheck = (): Extension => ({ oid: OID.ocspNoCheck, critical: false, value: NULL });

/** otherName GeneralName: [0] { type-id, [0] EXPLICIT value }. */
export const otherName = (typeId: string, value: Buffer): Buffer => ctx(0, oid(typeId), ctx(0, value));

export const subjectAltName = (generalNames: Buffer[]): Extension => ({
  oid: OID.subjectAltName,
  critical: false,
  value: seq(...generalNames),
});
