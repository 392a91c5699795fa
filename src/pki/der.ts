// Minimal DER writer. Everything this CA emits (certificates, CRLs, OCSP) is
// encoded here rather than through the pkijs object model: one encoder gives
// exact control over the details openssl checks (one attribute per RDN SET,
// PrintableString country, times without fractions, raw context tags) and is
// fast enough for million-entry CRLs.

export type Bytes = Uint8Array;

export function lengthOf(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  const out: number[] = [];
  for (let n = len; n > 0; n = Math.floor(n / 256)) out.unshift(n & 0xff);
  return Buffer.from([0x80 | out.length, ...out]);
}

/** Size of a TLV header for a content of `len` bytes (one-byte tag). */
export function headerSize(len: number): number {
  if (len < 0x80) return 2;
  if (len < 0x100) return 3;
  if (len < 0x10000) return 4;
  if (len < 0x1000000) return 5;
  return 6;
}

export function tlv(tag: number, ...content: Bytes[]): Buffer {
  let len = 0;
  for (const c of content) len += c.length;
  // One allocation, header written in place, each content copied once (OCSP pre-signing encodes
  // hundreds of responses per batch chunk: the small header buffers showed in its profile).
  const head = headerSize(len);
  const out = Buffer.allocUnsafe(head + len);
  out[0] = tag;
  if (head === 2) out[1] = len;
  else {
    out[1] = 0x80 | (head - 2);
    for (let i = head - 1, n = len; i >= 2; i--, n = Math.floor(n / 256)) out[i] = n & 0xff;
  }
  let at = head;
  for (const c of content) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Header + parts without copying, for large structures (CRLs) that are hashed
 * piecewise and concatenated once at the end.
 */
export function tlvParts(tag: number, parts: Bytes[]): Bytes[] {
  let len = 0;
  for (const c of parts) len += c.length;
  return [Buffer.concat([Buffer.from([tag]), lengthOf(len)]), ...parts];
}

export const seq = (...c: Bytes[]): Buffer => tlv(0x30, ...c);
export const set = (...c: Bytes[]): Buffer => tlv(0x31, ...c);
export const octets = (b: Bytes): Buffer => tlv(0x04, b);
export const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
export const ia5 = (s: string): Buffer => tlv(0x16, Buffer.from(s, 'ascii'));
export const NULL = Buffer.from([0x05, 0x00]);
export const TRUE = Buffer.from([0x01, 0x01, 0xff]);

/** Context-specific constructed tag [n] (EXPLICIT, or IMPLICIT of a constructed type). */
export const ctx = (n: number, ...c: Bytes[]): Buffer => tlv(0xa0 | n, ...c);
/** Context-specific primitive tag [n] (IMPLICIT of a primitive type). */
export const ctxPrim = (n: number, b: Bytes): Buffer => tlv(0x80 | n, b);

export function printable(s: string): Buffer {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s)) throw new Error(`not a PrintableString: ${s}`);
  return tlv(0x13, Buffer.from(s, 'ascii'));
}

const oidCache = new Map<string, Buffer>();

/** Encoded once per OID string; callers only ever copy the bytes into larger structures. */
export function oid(dotted: string): Buffer {
  let encoded = oidCache.get(dotted);
  if (!encoded) {
    encoded = encodeOid(dotted);
    oidCache.set(dotted, encoded);
  }
  return encoded;
}

function encodeOid(dotted: string): Buffer {
  const parts = dotted.split('.').map((p) => BigInt(p));
  if (parts.length < 2) throw new Error(`bad OID ${dotted}`);
  const arcs = [parts[0]! * 40n + parts[1]!, ...parts.slice(2)];
  const out: number[] = [];
  for (const arc of arcs) {
    const chunk: number[] = [Number(arc & 0x7fn)];
    for (let a = arc >> 7n; a > 0n; a >>= 7n) chunk.unshift(Number(a & 0x7fn) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** Minimal two's-complement content for a non-negative magnitude. */
export function unsignedIntegerContent(magnitude: Bytes): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const trimmed = Buffer.from(magnitude.subarray(i));
  if (trimmed.length === 0) return Buffer.from([0]);
  return trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
}

export const integerFromBytes = (magnitude: Bytes): Buffer => tlv(0x02, unsignedIntegerContent(magnitude));

export function integer(n: number | bigint): Buffer {
  const v = BigInt(n);
  if (v < 0n) throw new Error('negative INTEGER not supported');
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  return integerFromBytes(Buffer.from(hex, 'hex'));
}

export const enumerated = (n: number): Buffer => tlv(0x0a, Buffer.from([n]));

/** BIT STRING with no unused bits (signatures, public keys). */
export const bitString = (b: Bytes): Buffer => tlv(0x03, Buffer.from([0]), b);

/**
 * Named-bit BIT STRING (KeyUsage): DER drops trailing zero bits and states how
 * many bits of the last byte are unused.
 */
export function namedBits(bits: number[]): Buffer {
  if (bits.length === 0) return Buffer.from([0x03, 0x01, 0x00]);
  const top = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(top / 8) + 1);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  return tlv(0x03, Buffer.from([7 - (top & 7)]), bytes);
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Whole seconds: DER forbids fractional seconds in certificates, CRLs, OCSP. */
export const truncateToSeconds = (d: Date): Date => new Date(Math.floor(d.getTime() / 1000) * 1000);

function checkDate(d: Date): void {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw new Error('invalid Date');
}

export function generalizedTime(d: Date): Buffer {
  checkDate(d);
  const s = `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  return tlv(0x18, Buffer.from(s, 'ascii'));
}

export function utcTime(d: Date): Buffer {
  checkDate(d);
  const s = `${pad(d.getUTCFullYear() % 100)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  return tlv(0x17, Buffer.from(s, 'ascii'));
}

/** RFC 5280 Time: UTCTime for 1950–2049, GeneralizedTime otherwise. */
export function x509Time(d: Date): Buffer {
  const y = d.getUTCFullYear();
  return y >= 1950 && y < 2050 ? utcTime(d) : generalizedTime(d);
}

export const algorithm = (dotted: string, params: Bytes | null = NULL): Buffer =>
  params ? seq(oid(dotted), params) : seq(oid(dotted));
