// OCSPRequest intake (RFC 6960 §4.1). Any decoding failure is one error code so
// the route can answer malformedRequest; matching a CertID to one of our CAs is
// separate so a foreign issuer can be answered with unauthorized.
import { timingSafeEqual } from 'node:crypto';
import type { CaIdentity, OcspHash } from './ca.js';
import { children, decodeOid, DerError, expect, integerHex, readOne, type Node } from './der-read.js';
import { PkiError } from './errors.js';
import { OID } from './oids.js';

export interface CertId {
  /** 'sha1' | 'sha256', or the OID of a hash we do not support (then no CA matches). */
  hashAlgorithm: OcspHash | string;
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  /** Lowercase hex, no leading zeros. */
  serial: string;
}

export interface ParsedOcspRequest {
  certIds: CertId[];
  /** Nonce value if the client sent one. Pre-signed responses do not echo it (RFC 8954 allows that). */
  nonce: Buffer | null;
}

const HASH_BY_OID: Record<string, OcspHash> = { [OID.sha1]: 'sha1', [OID.sha256]: 'sha256' };

const malformed = (why: string, cause?: unknown): PkiError =>
  new PkiError('ocspMalformedRequest', `malformed OCSP request: ${why}`, { cause });

export function parseOcspRequest(der: Uint8Array): ParsedOcspRequest {
  try {
    const [tbs] = children(readOne(Buffer.from(der), 0x30)); // optionalSignature ignored
    let fields = children(expect(tbs, 0x30, 'tbsRequest'));
    if (fields[0]?.tag === 0xa0) fields = fields.slice(1); // version
    if (fields[0]?.tag === 0xa1) fields = fields.slice(1); // requestorName
    const [list, exts] = fields;
    const certIds = children(expect(list, 0x30, 'requestList')).map((r) => {
      const [certId] = children(expect(r, 0x30, 'Request'));
      return parseCertId(expect(certId, 0x30, 'CertID'));
    });
    if (certIds.length === 0) throw new DerError('empty requestList');
    return { certIds, nonce: exts ? findNonce(expect(exts, 0xa2, 'requestExtensions')) : null };
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw malformed((e as Error).message, e);
  }
}

function parseCertId(node: Node): CertId {
  const [alg, nameHash, keyHash, serial] = children(node);
  const hashOid = decodeOid(children(expect(alg, 0x30, 'hashAlgorithm'))[0]!);
  return {
    hashAlgorithm: HASH_BY_OID[hashOid] ?? hashOid,
    issuerNameHash: Buffer.from(expect(nameHash, 0x04, 'issuerNameHash').value),
    issuerKeyHash: Buffer.from(expect(keyHash, 0x04, 'issuerKeyHash').value),
    serial: integerHex(expect(serial, 0x02, 'serialNumber')),
  };
}

function findNonce(exts: Node): Buffer | null {
  const [seqNode] = children(exts);
  for (const ext of children(expect(seqNode, 0x30, 'Extensions'))) {
    const parts = children(expect(ext, 0x30, 'Extension'));
    if (decodeOid(parts[0]!) === OID.ocspNonce) return Buffer.from(expect(parts[parts.length - 1], 0x04, 'extnValue').value);
  }
  return null;
}

/**
 * Which of our CAs the CertID names, or null (→ unauthorized): both the
 * issuer name hash and key hash must match under the request's hash algorithm.
 */
export function matchCertId(certId: CertId, cas: Iterable<CaIdentity>): CaIdentity | null {
  if (certId.hashAlgorithm !== 'sha1' && certId.hashAlgorithm !== 'sha256') return null;
  const alg = certId.hashAlgorithm;
  for (const ca of cas) {
    if (sameBytes(ca.nameHash[alg], certId.issuerNameHash) && sameBytes(ca.keyHash[alg], certId.issuerKeyHash)) return ca;
  }
  return null;
}

const sameBytes = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);

/**
 * The request from a GET path segment (RFC 6960 Appendix A.1): URL-decoded
 * base64, also accepting base64url and missing padding since clients vary.
 */
export function decodeOcspGetRequest(segment: string): Buffer {
  let s: string;
  try {
    s = decodeURIComponent(segment);
  } catch (e) {
    throw malformed('bad URL encoding', e);
  }
  s = s.replace(/ /g, '+'); // a '+' some URL parsers turned into a space
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s) || s.length === 0) throw malformed('not base64');
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}
