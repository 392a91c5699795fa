// Strict DER reader for the few structures this CA reads (CSRs, OCSP requests,
// certificates). Strict on purpose: anything that is not definite-length,
// minimally encoded DER fits inside the declared lengths is rejected, so a
// malformed input surfaces as one error instead of a half-parsed object.

export class DerError extends Error {
  override name = 'DerError';
}

export interface Node {
  tag: number;
  /** The whole TLV (header + content), a view into the input. */
  raw: Buffer;
  /** The content octets, a view into the input. */
  value: Buffer;
}

export function readNode(buf: Buffer, offset = 0): Node {
  if (offset + 2 > buf.length) throw new DerError('truncated header');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags not supported');
  let p = offset + 1;
  const first = buf[p++]!;
  let len: number;
  if (first < 0x80) len = first;
  else {
    const n = first & 0x7f;
    if (n === 0) throw new DerError('indefinite length');
    if (n > 4) throw new DerError('length too large');
    if (p + n > buf.length) throw new DerError('truncated length');
    if (buf[p] === 0) throw new DerError('non-minimal length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
    if (len < 0x80) throw new DerError('non-minimal length');
  }
  if (p + len > buf.length) throw new DerError('content exceeds input');
  return { tag, raw: buf.subarray(offset, p + len), value: buf.subarray(p, p + len) };
}

/** Parse exactly one TLV spanning the whole input (no trailing bytes). */
export function readOne(buf: Buffer, expectTag?: number): Node {
  const n = readNode(buf, 0);
  if (n.raw.length !== buf.length) throw new DerError('trailing data');
  if (expectTag !== undefined && n.tag !== expectTag) throw new DerError(`expected tag 0x${expectTag.toString(16)}, got 0x${n.tag.toString(16)}`);
  return n;
}

export function children(node: Node): Node[] {
  if (!(node.tag & 0x20)) throw new DerError('not constructed');
  const out: Node[] = [];
  for (let p = 0; p < node.value.length; ) {
    const c = readNode(node.value, p);
    out.push(c);
    p += c.raw.length;
  }
  return out;
}

export function expect(node: Node | undefined, tag: number, what: string): Node {
  if (!node) throw new DerError(`missing ${what}`);
  if (node.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${node.tag.toString(16)}`);
  return node;
}

export function decodeOid(node: Node): string {
  if (node.tag !== 0x06 || node.value.length === 0) throw new DerError('not an OID');
  const arcs: bigint[] = [];
  let v = 0n;
  for (let i = 0; i < node.value.length; i++) {
    const b = node.value[i]!;
    if (v === 0n && b === 0x80) throw new DerError('non-minimal OID arc');
    v = (v << 7n) | BigInt(b & 0x7f);
    if (!(b & 0x80)) {
      arcs.push(v);
      v = 0n;
    } else if (i === node.value.length - 1) throw new DerError('truncated OID');
  }
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/** INTEGER content as lowercase hex of its magnitude (positive integers only). */
export function integerHex(node: Node): string {
  if (node.tag !== 0x02 || node.value.length === 0) throw new DerError('not an INTEGER');
  const v = node.value;
  if (v.length > 1 && ((v[0] === 0 && !(v[1]! & 0x80)) || (v[0] === 0xff && v[1]! & 0x80))) throw new DerError('non-minimal INTEGER');
  if (v[0]! & 0x80) throw new DerError('negative INTEGER');
  const hex = v.toString('hex').replace(/^(00)+(?=..)/, '');
  return hex;
}

/** BIT STRING content without the unused-bits octet (must be 0 here). */
export function bitStringBytes(node: Node): Buffer {
  if (node.tag !== 0x03 || node.value.length === 0) throw new DerError('not a BIT STRING');
  if (node.value[0] !== 0) throw new DerError('BIT STRING with unused bits');
  return node.value.subarray(1);
}

export function decodeTime(node: Node): Date {
  const s = node.value.toString('ascii');
  let m: RegExpMatchArray | null;
  if (node.tag === 0x17 && (m = s.match(/^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/))) {
    const yy = Number(m[1]);
    return new Date(Date.UTC(yy < 50 ? 2000 + yy : 1900 + yy, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  }
  if (node.tag === 0x18 && (m = s.match(/^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/))) {
    return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  }
  throw new DerError('bad time');
}
