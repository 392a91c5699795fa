// Full CRLs. The revokedCertificates list is written straight into one Buffer
// (hand-rolled TLVs, no per-entry objects) because a CRL may hold a million
// entries; the small fixed parts use the ordinary DER helpers.
import { createSign, type KeyObject } from 'node:crypto';
import { bitString, ctx, headerSize, integer, seq, tlvParts, truncateToSeconds, x509Time, type Bytes } from './der.js';
import { PkiError } from './errors.js';
import type { CaIdentity } from './ca.js';
import { authorityKeyIdentifier, encodeExtension } from './extensions.js';
import { OID } from './oids.js';
import { signatureAlgorithmFor } from './sign.js';

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

/**
 * Many CRL entries held compactly: flat arrays (~40 bytes an entry) instead of an object and two
 * Dates each, read back through one reused entry object. With a million entries the objects
 * themselves made buildCrl slow (the garbage collector marking them whenever the output's Buffers
 * asked for a collection), so what a CRL is built from is held this way.
 */
export class PackedCrlEntries implements Iterable<CrlEntry> {
  private readonly serials: string[] = [];
  private readonly revokedAt: number[] = [];
  /** NaN: no invalidity date. */
  private readonly invalidity: number[] = [];
  private readonly reasons: RevocationReason[] = [];

  push(serial: string, revokedAt: Date, reason: RevocationReason, invalidityDate: Date | null): void {
    this.serials.push(serial);
    this.revokedAt.push(revokedAt.getTime());
    this.invalidity.push(invalidityDate ? invalidityDate.getTime() : NaN);
    this.reasons.push(reason);
  }

  get length(): number {
    return this.serials.length;
  }

  /** The entries in order; each one is the same object, valid until the next step. */
  *[Symbol.iterator](): Iterator<CrlEntry> {
    const rev = new Date(0);
    const inv = new Date(0);
    const entry: CrlEntry = { serial: '', revokedAt: rev, reason: 'unspecified', invalidityDate: null };
    for (let i = 0; i < this.serials.length; i++) {
      entry.serial = this.serials[i]!;
      rev.setTime(this.revokedAt[i]!);
      entry.reason = this.reasons[i]!;
      const t = this.invalidity[i]!;
      if (Number.isNaN(t)) entry.invalidityDate = null;
      else {
        inv.setTime(t);
        entry.invalidityDate = inv;
      }
      yield entry;
    }
  }
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

  const { parts: list, count } = encodeRevokedCertificates(input.entries);
  const algId = signatureAlgorithmFor(input.caPrivateKey);
  const extensions = ctx(
    0,
    seq(
      encodeExtension(authorityKeyIdentifier(input.issuer.keyId)),
      encodeExtension({ oid: OID.cRLNumber, critical: false, value: integer(crlNumber) }),
    ),
  );
  // An empty list must be absent, not an empty SEQUENCE (RFC 5280 §5.1.2.6).
  const tbs = tlvParts(0x30, [
    integer(1),
    algId,
    input.issuer.subject,
    x509Time(thisUpdate),
    x509Time(nextUpdate),
    ...(count > 0 ? list : []),
    extensions,
  ]);
  // Hash the pieces as they are and copy the (possibly ~70 MB) list only once.
  const signer = createSign('sha256');
  for (const part of tbs) signer.update(part);
  const signature = bitString(signer.sign(input.caPrivateKey));
  const der = Buffer.concat(tlvParts(0x30, [...tbs, algId, signature]));
  return { der, crlNumber, thisUpdate, nextUpdate, entryCount: count };
}

// --- the fast part -------------------------------------------------------

const REASON_EXT_PREFIX = Buffer.from('300a0603551d1504030a01', 'hex'); // SEQ{OID reasonCode, OCTET{ENUM ..}}
const INVALIDITY_EXT_PREFIX = Buffer.from('30180603551d1804111' + '80f', 'hex'); // SEQ{OID invalidityDate, OCTET{GeneralizedTime(15)}}

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

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(i)] = i;
}
const scratch = Buffer.alloc(64);

/** INTEGER magnitude (no leading zeros) in a view valid until the next call. */
function serialMagnitude(serial: string | Uint8Array): Buffer {
  let b: Buffer;
  if (typeof serial === 'string') {
    let start = 0;
    while (start < serial.length - 1 && serial.charCodeAt(start) === 0x30) start++;
    const digits = serial.length - start;
    if (digits === 0 || digits > 40) throw new PkiError('invalidArgument', `CRL entry serial out of range: ${serial}`);
    const n = (digits + 1) >> 1;
    let i = start;
    let o = 0;
    if (digits & 1) scratch[o++] = hexDigit(serial, i++);
    while (o < n) {
      scratch[o++] = (hexDigit(serial, i) << 4) | hexDigit(serial, i + 1);
      i += 2;
    }
    b = scratch.subarray(0, n);
  } else {
    b = Buffer.from(serial.buffer, serial.byteOffset, serial.byteLength);
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    b = b.subarray(i);
  }
  if (b.length === 0 || b.length > 20 || (b.length === 1 && b[0] === 0)) throw new PkiError('invalidArgument', 'CRL entry serial out of range');
  return b;
}

function hexDigit(s: string, i: number): number {
  const c = s.charCodeAt(i);
  const v = c < 128 ? HEX_VALUE[c]! : -1;
  if (v < 0) throw new PkiError('invalidArgument', `CRL entry serial is not hex: ${s}`);
  return v;
}

function isValidDate(d: unknown): d is Date {
  return d instanceof Date && !Number.isNaN(d.getTime());
}

const CHUNK = 1 << 20;

/**
 * SEQUENCE OF revoked entries as a list of buffers (header first), written
 * into 1 MiB chunks so a million entries cost no reallocation copies.
 */
export function encodeRevokedCertificates(entries: Iterable<CrlEntry>): { parts: Bytes[]; length: number; count: number } {
  const chunks: Buffer[] = [];
  let buf = Buffer.allocUnsafe(CHUNK);
  let p = 0;
  let length = 0;
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
    // RFC 5280 §5.3.1: leave reasonCode out rather than say unspecified (0).
    const hasReason = reason !== 0;
    const inv = e.invalidityDate;
    const hasInv = inv !== undefined && inv !== null;
    if (hasInv && !isValidDate(inv)) throw new PkiError('invalidArgument', 'CRL entry invalidityDate is not a valid Date');
    const extLen = (hasReason ? 12 : 0) + (hasInv ? 26 : 0);
    const entryLen = 2 + intLen + 2 + timeLen + (extLen ? 2 + extLen : 0);
    const total = headerSize(entryLen) + entryLen;

    if (p + total > buf.length) {
      chunks.push(buf.subarray(0, p));
      buf = Buffer.allocUnsafe(CHUNK);
      p = 0;
    }
    p = writeHeader(buf, p, 0x30, entryLen);
    buf[p++] = 0x02;
    buf[p++] = intLen;
    if (pad) buf[p++] = 0;
    for (let i = 0; i < mag.length; i++) buf[p++] = mag[i]!; // byte loops beat Buffer#copy at this size
    buf[p++] = revGeneralized ? 0x18 : 0x17;
    buf[p++] = timeLen;
    p = writeTimeDigits(buf, p, e.revokedAt, revGeneralized);
    if (extLen) {
      buf[p++] = 0x30;
      buf[p++] = extLen;
      if (hasReason) {
        for (let i = 0; i < REASON_EXT_PREFIX.length; i++) buf[p++] = REASON_EXT_PREFIX[i]!;
        buf[p++] = reason;
      }
      if (hasInv) {
        for (let i = 0; i < INVALIDITY_EXT_PREFIX.length; i++) buf[p++] = INVALIDITY_EXT_PREFIX[i]!;
        p = writeTimeDigits(buf, p, inv, true);
      }
    }
    length += total;
    count++;
  }
  if (p > 0) chunks.push(buf.subarray(0, p));
  return { parts: tlvParts(0x30, chunks), length: headerSize(length) + length, count };
}
