// PKCS#10 intake. The CSR's subject is ignored (our profile decides names); what
// we take is its public key, after proving the requester holds the private key.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { fromPem } from './certificate.js';
import { bitStringBytes, children, decodeOid, DerError, expect, readOne } from './der-read.js';
import { PkiError } from './errors.js';
import { rememberDecodedSpki } from './keys.js';
import { OID } from './oids.js';

export interface ParsedCsr {
  /** SubjectPublicKeyInfo DER exactly as in the request: embed it in the certificate. */
  spki: Buffer;
  keyType: 'rsa' | 'ec';
  /** RSA modulus bits or 256 for P-256. */
  keyBits: number;
  /** The requested subject Name DER (informational only). */
  subject: Buffer;
}

const SIG_HASH: Record<string, { hash: string; key: 'rsa' | 'ec' }> = {
  [OID.sha256WithRSAEncryption]: { hash: 'sha256', key: 'rsa' },
  [OID.sha384WithRSAEncryption]: { hash: 'sha384', key: 'rsa' },
  [OID.sha512WithRSAEncryption]: { hash: 'sha512', key: 'rsa' },
  [OID.ecdsaWithSHA256]: { hash: 'sha256', key: 'ec' },
  [OID.ecdsaWithSHA384]: { hash: 'sha384', key: 'ec' },
  [OID.ecdsaWithSHA512]: { hash: 'sha512', key: 'ec' },
};

// Both PEM labels occur in the wild ("NEW" from older tools).
function toDer(input: string | Uint8Array): Buffer {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  if (!text.includes('-----BEGIN')) return Buffer.from(input);
  return fromPem(text, text.includes('-----BEGIN NEW CERTIFICATE REQUEST-----') ? 'NEW CERTIFICATE REQUEST' : 'CERTIFICATE REQUEST');
}

/**
 * Parse a PKCS#10 request (PEM or DER), check its self-signature and key policy:
 * RSA ≥ 2048 bits or ECDSA P-256. Throws PkiError with code csrMalformed,
 * csrBadSignature, csrKeyTooWeak, csrKeyTypeUnsupported or
 * csrSignatureAlgorithmUnsupported.
 */
export function parseCsr(input: string | Uint8Array): ParsedCsr {
  let info: Buffer, subject: Buffer, spki: Buffer, sigAlg: string, signature: Buffer;
  try {
    const der = toDer(input);
    const [infoNode, algNode, sigNode] = children(readOne(der, 0x30));
    const [version, subj, spkiNode] = children(expect(infoNode, 0x30, 'certificationRequestInfo'));
    if (expect(version, 0x02, 'version').value.toString('hex') !== '00') throw new DerError('unsupported CSR version');
    info = infoNode!.raw;
    subject = expect(subj, 0x30, 'subject').raw;
    spki = expect(spkiNode, 0x30, 'subjectPKInfo').raw;
    sigAlg = decodeOid(children(expect(algNode, 0x30, 'signatureAlgorithm'))[0]!);
    signature = bitStringBytes(expect(sigNode, 0x03, 'signature'));
  } catch (e) {
    if (e instanceof PkiError && e.code === 'csrMalformed') throw e;
    throw new PkiError('csrMalformed', `not a PKCS#10 request: ${(e as Error).message}`, { cause: e });
  }

  const key = checkKey(spki);
  const alg = SIG_HASH[sigAlg];
  if (!alg || alg.key !== key.asymmetricKeyType) {
    throw new PkiError('csrSignatureAlgorithmUnsupported', `signature algorithm ${sigAlg} not accepted for a ${key.asymmetricKeyType} key`);
  }
  let ok = false;
  try {
    ok = verify(alg.hash, info, key, signature);
  } catch {
    ok = false; // e.g. an ECDSA signature that is not a valid DER pair
  }
  if (!ok) throw new PkiError('csrBadSignature', 'the CSR signature does not verify with its own public key');

  const details = key.asymmetricKeyDetails ?? {};
  return {
    spki: rememberDecodedSpki(Buffer.from(spki)),
    keyType: key.asymmetricKeyType as 'rsa' | 'ec',
    keyBits: key.asymmetricKeyType === 'rsa' ? details.modulusLength ?? 0 : 256,
    subject: Buffer.from(subject),
  };
}

function checkKey(spki: Buffer): KeyObject {
  let algOid: string;
  let param: string | undefined;
  try {
    const [alg] = children(readOne(spki, 0x30));
    const [o, p] = children(expect(alg, 0x30, 'algorithm'));
    algOid = decodeOid(o!);
    param = p?.tag === 0x06 ? decodeOid(p) : undefined;
  } catch (e) {
    throw new PkiError('csrMalformed', `bad SubjectPublicKeyInfo: ${(e as Error).message}`, { cause: e });
  }
  if (algOid === OID.ecPublicKey && param !== OID.prime256v1) {
    throw new PkiError('csrKeyTypeUnsupported', `EC curve ${param ?? '(explicit parameters)'} not accepted; use P-256`);
  }
  if (algOid !== OID.rsaEncryption && algOid !== OID.ecPublicKey) {
    throw new PkiError('csrKeyTypeUnsupported', `public key algorithm ${algOid} not accepted; use RSA 2048+ or ECDSA P-256`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (e) {
    throw new PkiError('csrMalformed', 'the public key does not decode', { cause: e });
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new PkiError('csrKeyTooWeak', `RSA key of ${bits} bits; at least 2048 required`);
  }
  return key;
}
