// Certificate serial numbers: 16 random bytes, positive. Kept as lowercase hex
// strings everywhere outside the encoder (what the database and APIs use).
import { randomBytes } from 'node:crypto';
import { PkiError } from './errors.js';

/**
 * 16 random bytes with the top bits set to 01: positive and always 16 bytes
 * long in DER (no leading zero to add or strip), 126 random bits.
 */
export function generateSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x3f) | 0x40;
  return b.toString('hex');
}

/** Lowercase hex without leading zeros; rejects zero, non-hex, and > 20 octets (RFC 5280 §4.1.2.2). */
export function normalizeSerial(serial: string): string {
  const s = serial.trim().toLowerCase().replace(/^0x/, '').replace(/[:\s]/g, '');
  if (!/^[0-9a-f]+$/.test(s)) throw new PkiError('invalidArgument', `serial is not hex: ${serial}`);
  const trimmed = s.replace(/^0+/, '');
  if (trimmed === '') throw new PkiError('invalidArgument', 'serial must be positive');
  const even = trimmed.length % 2 ? '0' + trimmed : trimmed;
  // DER adds a 00 octet when the top bit is set; that octet counts toward the 20.
  const octets = even.length / 2 + (parseInt(even.slice(0, 2), 16) & 0x80 ? 1 : 0);
  if (octets > 20) throw new PkiError('invalidArgument', 'serial longer than 20 octets');
  return trimmed;
}

/** Magnitude bytes of a hex serial (for the INTEGER encoder). */
export const serialBytes = (hex: string): Buffer => {
  const n = normalizeSerial(hex);
  return Buffer.from(n.length % 2 ? '0' + n : n, 'hex');
};
