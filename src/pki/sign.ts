// Signing with node:crypto over DER we assembled ourselves: pkijs'
// Certificate.sign re-encodes the whole object (1.15 ms vs 0.26 ms measured),
// which matters for OCSP pre-signing and million-entry CRLs.
import { sign, type KeyObject } from 'node:crypto';
import { algorithm, bitString, seq } from './der.js';
import { OID } from './oids.js';
import { PkiError } from './errors.js';

/** AlgorithmIdentifier for the key's signature (sha256WithRSAEncryption; ecdsa-with-SHA256 for P-256). */
export function signatureAlgorithmFor(key: KeyObject): Buffer {
  if (key.asymmetricKeyType === 'rsa') return algorithm(OID.sha256WithRSAEncryption);
  if (key.asymmetricKeyType === 'ec') return algorithm(OID.ecdsaWithSHA256, null);
  throw new PkiError('invalidArgument', `unsupported signing key type ${key.asymmetricKeyType}`);
}

/**
 * SEQUENCE { tbs, algorithm, BIT STRING signature } — the shape shared by
 * Certificate, CertificateList and BasicOCSPResponse (which appends certs).
 * `tbs` must already contain the same AlgorithmIdentifier where the structure
 * repeats it.
 */
export function signTbs(tbs: Buffer, key: KeyObject, algId: Buffer = signatureAlgorithmFor(key)): Buffer[] {
  const signature = sign('sha256', tbs, key);
  return [tbs, algId, bitString(signature)];
}

export const signed = (tbs: Buffer, key: KeyObject, algId?: Buffer): Buffer => seq(...signTbs(tbs, key, algId));
