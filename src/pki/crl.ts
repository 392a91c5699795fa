// Full CRLs. The revokedCertificates list is written straight into one Buffer
// (hand-rolled TLVs, no per-entry objects) because a CRL may hold a million
// entries; the small fixed parts use the ordinary DER helpers.
import type { KeyObject } from 'node:crypto';
import { ctx, headerSize, integer, seq, truncateToSeconds, x509Time } from './der.js';
import { PkiError } from './errors.js';
import type { CaIdentity } from './ca.js';
import { authorityKeyIdentifier, encodeExtension } from './extensions.js';
import { OID } from './oids.js';
import { signatureAlgorithmFor, signed } from './sign.js';

/** CRLReason (RFC 5280 §5.3.1); 7 is unused. */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

export interface CrlEntry {
  /** Lowercase/uppercase hex or the INTEGER magnitude bytes. */
  serial: string | Uint8Array;
  revokedAt: Date;
  reason: RevocationReason;
  /** When the key is known or suspected to have been compromised (or use stopped). */
  invalidityDate?: Date | null;
}

export interface CrlInput {
  issuer: CaIdentity;
  caPrivateKey: KeyObject;
  crlNumber: bigint | number;
  thisUpdate: Date;
  nextUpdate: Date;
  entries: Iterable<CrlEntry>;
}

export interface BuiltCrl {
  der: Buffer;
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  entryCount: number;
}

export function buildCrl(input: CrlInput): BuiltCrl {
  const thisUpdate = truncateToSeconds(input.thisUpdate);
  const nextUpdate = truncateToSeconds(input.nextUpdate);
  if (!(nextUpdate > thisUpdate)) throw new PkiError('invalidArgument', 'nextUpdate must be after thisUpdate');
  const crlNumber = BigInt(input.crlNumber);
  if (crlNumber < 0n) throw new PkiError('invalidArgument', 'CRL number must be non-negative');

  const { bytes: list, count } = encodeRevokedCertificates(input.entries);
  const algId = signatureAlgorithmFor(input.caPrivateKey);
  const extensions = ctx(
    0,
    seq(
      encodeExtension(authorityKeyIdentifier(input.issuer.keyId)),
      encodeExtension({ oid: OID.cRLNumber, critical: false, value: integer(crlNumber) }),
    ),
  );
  // An empty list must be absent, not an empty SEQUENCE (RFC 5280 §5.1.2.6).
  const parts = [integer(1), algId, input.issuer.subject, x509Time(thisUpdate), x509Time(nextUpdate)];
  if (count > 0) parts.push(list);
  parts.push(extensions);
  const der = signed(seq(...parts), input.caPrivateKey, algId);
  return { der, crlNumber, thisUpdate, nextUpdate, entryCount: count };
}

// --- the fast part -------------------------------------------------------

const REASON_EXT_PREFIX = Buffer.from('300a0603551d1504030a01', 'hex'); // SEQ{OID reasonCode, OCTET{ENUM ..}}
const INVALIDITY_EXT_PREFIX = Buffer.from('30180603551d1804111' + '80f', 'hex'); // SEQ{OID invalidityDate, OCTET{GeneralizedTime(15)}}
const HEX = /^[0-9a-fA-F]+$/;

function writeHeader(buf: Buffer, p: number, tag: number, len: number): number {
  buf[p++] = tag;
  if (len < 0x80) buf[p++] = len;
  else if (len < 0x100) {
    buf[p++] = 0x81;
    buf[p++] = len;
  } else if (len < 0x10000) {
    buf[p++] = 0x82;
    buf[p++] = len >> 8;
    buf[p++] = len & 0xff;
  } else {
    const n = headerSize(len) - 2;
    buf[p++] = 0x80 | n;
    for (let i = n - 1; i >= 0; i--) buf[p++] = Math.floor(len / 256 ** i) & 0xff;
  }
  return p;
}

function write2(buf: Buffer, p: number, n: number): number {
  buf[p] = 0x30 + ((n / 10) | 0);
  buf[p + 1] = 0x30 + (n % 10);
  return p + 2;
}

/** Writes the time digits (12 or 14) + 'Z' and returns the new offset. */
function writeTimeDigits(buf: Buffer, p: number, d: Date, fourDigitYear: boolean): number {
  const y = d.getUTCFullYear();
  if (fourDigitYear) p = write2(buf, p, (y / 100) | 0);
  p = write2(buf, p, y % 100);
  p = write2(buf, p, d.getUTCMonth() + 1);
  p = write2(buf, p, d.getUTCDate());
  p = write2(buf, p, d.getUTCHours());
  p = write2(buf, p, d.getUTCMinutes());
  p = write2(buf, p, d.getUTCSeconds());
  buf[p] = 0x5a; // 'Z'
  return p + 1;
}

function serialMagnitude(serial: string | Uint8Array): Buffer {
  let b: Buffer;
  if (typeof serial === 'string') {
    if (!HEX.test(serial)) throw new PkiError('invalidArgument', `CRL entry serial is not hex: ${serial}`);
    b = Buffer.from(serial.length & 1 ? '0' + serial : serial, 'hex');
  } else b = Buffer.from(serial.buffer, serial.byteOffset, serial.byteLength);
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  if (b.length - i > 20 || (b.length - i === 1 && b[i] === 0)) throw new PkiError('invalidArgument', 'CRL entry serial out of range');
  return i ? b.subarray(i) : b;
}

function isValidDate(d: unknown): d is Date {
  return d instanceof Date && !Number.isNaN(d.getTime());
}

/** SEQUENCE OF revoked entries, complete with its own header. */
export function encodeRevokedCertificates(entries: Iterable<CrlEntry>): { bytes: Buffer; count: number } {
  let cap = 1 << 16;
  let buf = Buffer.allocUnsafe(cap);
  const RESERVE = 6; // room for the outer SEQUENCE header, filled at the end
  let p = RESERVE;
  let count = 0;
  for (const e of entries) {
    const reason: number | undefined = REVOCATION_REASONS[e.reason];
    if (reason === undefined) throw new PkiError('invalidArgument', `unknown revocation reason ${String(e.reason)}`);
    if (!isValidDate(e.revokedAt)) throw new PkiError('invalidArgument', 'CRL entry revokedAt is not a valid Date');
    const mag = serialMagnitude(e.serial);
    const pad = mag[0]! & 0x80 ? 1 : 0;
    const intLen = mag.length + pad;
    const ry = e.revokedAt.getUTCFullYear();
    const revGeneralized = ry < 1950 || ry >= 2050;
    const timeLen = revGeneralized ? 15 : 13;
    // RFC 5280 §5.3.1: use no reasonCode rather than unspecified (0).
    const hasReason = reason !== 0;
    const inv = e.invalidityDate;
    const hasInv = inv !== undefined && inv !== null;
    if (hasInv && !isValidDate(inv)) throw new PkiError('invalidArgument', 'CRL entry invalidityDate is not a valid Date');
    const extLen = (hasReason ? 12 : 0) + (hasInv ? 26 : 0);
    const extTotal = extLen ? 2 + extLen : 0;
    const entryLen = 2 + intLen + 2 + timeLen + extTotal;
    const total = headerSize(entryLen) + entryLen;

    if (p + total > cap) {
      cap = Math.max(cap * 2, p + total);
      const bigger = Buffer.allocUnsafe(cap);
      buf.copy(bigger, 0, 0, p);
      buf = bigger;
    }
    p = writeHeader(buf, p, 0x30, entryLen);
    buf[p++] = 0x02;
    buf[p++] = intLen;
    if (pad) buf[p++] = 0;
    p += mag.copy(buf, p);
    buf[p++] = revGeneralized ? 0x18 : 0x17;
    buf[p++] = timeLen;
    p = writeTimeDigits(buf, p, e.revokedAt, revGeneralized);
    if (extLen) {
      buf[p++] = 0x30;
      buf[p++] = extLen;
      if (hasReason) {
        p += REASON_EXT_PREFIX.copy(buf, p);
        buf[p++] = reason;
      }
      if (hasInv) {
        p += INVALIDITY_EXT_PREFIX.copy(buf, p);
        p = writeTimeDigits(buf, p, inv, true);
      }
    }
    count++;
  }
  const contentLen = p - RESERVE;
  const hs = headerSize(contentLen);
  const start = RESERVE - hs;
  writeHeader(buf, start, 0x30, contentLen);
  return { bytes: buf.subarray(start, p), count };
}
