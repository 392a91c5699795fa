// Key handling with node:crypto only. CA and responder keys are kept as
// encrypted PKCS#8 (the caller stores the bytes); resident keys made by the
// service are handed out once as plain PKCS#8 PEM and never kept.
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { PkiError } from './errors.js';

const generateKeyPairAsync = promisify(generateKeyPair);

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export async function generateRsaKeyPair(modulusLength = 2048): Promise<KeyPair> {
  return generateKeyPairAsync('rsa', { modulusLength, publicExponent: 0x10001 });
}

const CIPHER = 'aes-256-cbc';

/** Encrypted PKCS#8 (PBES2, AES-256-CBC) under `passphrase`. */
export function encryptPrivateKey(key: KeyObject, passphrase: string, format: 'pem'): string;
export function encryptPrivateKey(key: KeyObject, passphrase: string, format: 'der'): Buffer;
export function encryptPrivateKey(key: KeyObject, passphrase: string, format: 'pem' | 'der'): string | Buffer {
  if (!passphrase) throw new PkiError('invalidArgument', 'an empty passphrase would leave the key unprotected');
  if (format === 'pem') return key.export({ type: 'pkcs8', format: 'pem', cipher: CIPHER, passphrase });
  return key.export({ type: 'pkcs8', format: 'der', cipher: CIPHER, passphrase });
}

/**
 * Decrypt an encrypted PKCS#8 key (PEM string or DER bytes). Refuses keys that
 * are not encrypted: a plain key where an encrypted one belongs is a storage bug.
 */
export function decryptPrivateKey(data: string | Uint8Array, passphrase: string): KeyObject {
  const isPem = typeof data === 'string';
  if (isPem ? !data.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') : !looksEncryptedPkcs8(Buffer.from(data))) {
    throw new PkiError('keyDecryptFailed', 'not an encrypted PKCS#8 private key');
  }
  try {
    return isPem
      ? createPrivateKey({ key: data, format: 'pem', passphrase })
      : createPrivateKey({ key: Buffer.from(data), format: 'der', type: 'pkcs8', passphrase });
  } catch (cause) {
    throw new PkiError('keyDecryptFailed', 'cannot decrypt the private key (wrong passphrase or corrupt data)', { cause });
  }
}

// EncryptedPrivateKeyInfo starts SEQUENCE { SEQUENCE { OID pbes2 ...; a plain
// PrivateKeyInfo starts SEQUENCE { INTEGER 0 ... — enough to tell them apart.
function looksEncryptedPkcs8(der: Buffer): boolean {
  if (der[0] !== 0x30) return false;
  const lenBytes = der[1]! & 0x80 ? 1 + (der[1]! & 0x7f) : 1;
  return der[1 + lenBytes] === 0x30;
}

/** SubjectPublicKeyInfo DER of a public or private key. */
export function spkiDer(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'der' });
}

export function publicKeyFromSpki(spki: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
}

// SubjectPublicKeyInfo buffers this layer has already decoded (parseCsr) or made (a generated key
// pair), with a copy of the bytes it decoded: checkedSpki() need not decode them again (OpenSSL's
// key decoder, ~0.15 ms an issuance). Any other buffer, or one changed since, is decoded as before.
const decodedSpkis = new WeakMap<Uint8Array, Buffer>();

/** Records that `spki`, as its bytes are now, decodes as a public key. */
export function rememberDecodedSpki<T extends Uint8Array>(spki: T): T {
  decodedSpkis.set(spki, Buffer.from(spki));
  return spki;
}

/** Throws unless `spki` decodes as a SubjectPublicKeyInfo (skipped for the bytes rememberDecodedSpki saw). */
export function checkedSpki(spki: Uint8Array): void {
  const decoded = decodedSpkis.get(spki);
  if (decoded && decoded.equals(spki)) return;
  publicKeyFromSpki(spki);
}

export interface ResidentKeyPair {
  /** Unencrypted PKCS#8 PEM: give it to the resident once, never store it. */
  privateKeyPem: string;
  /** SubjectPublicKeyInfo DER to put in the certificate. */
  spki: Buffer;
}

export async function generateResidentKeyPair(): Promise<ResidentKeyPair> {
  const { privateKey, publicKey } = await generateRsaKeyPair(2048);
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    spki: rememberDecodedSpki(publicKey.export({ type: 'spki', format: 'der' })),
  };
}
