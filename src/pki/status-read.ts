// Reading back what relying parties see: the entries of a CRL and the certStatus
// of an OCSP response, so that a consistency check compares the published bytes
// (not a side table) with the database. Strict DER (der-read.ts); a CRL is walked
// entry by entry without building an array of a million nodes.
import { createPublicKey, verify, X509Certificate } from 'node:crypto';
import { bitStringBytes, children, decodeOid, decodeTime, DerError, expect, integerHex, readNode, readOne, type Node } from './der-read.js';
import { PkiError } from './errors.js';
import { REVOCATION_REASONS, type RevocationReason } from './crl.js';
import { OID } from './oids.js';

const REASON_BY_CODE = new Map<number, RevocationReason>(Object.entries(REVOCATION_REASONS).map(([k, v]) => [v, k as RevocationReason]));

export interface ReadCrlEntry {
  serial: string;
  reason: RevocationReason;
}

export interface ReadCrl {
  thisUpdate: Date;
  nextUpdate: Date | null;
  /** Whether the signature verifies with the given issuer certificate. */
  signatureValid: boolean;
  entries(): Generator<ReadCrlEntry>;
}

function entryReason(extensions: Node | undefined): RevocationReason {
  if (!extensions) return 'unspecified';
  for (const ext of children(extensions)) {
    const [id, second, third] = children(ext);
    if (decodeOid(id!) !== OID.reasonCode) continue;
    const value = expect(third ?? second, 0x04, 'extnValue');
    const enumerated = readOne(value.value, 0x0a);
    return REASON_BY_CODE.get(enumerated.value[0]!) ?? 'unspecified';
  }
  return 'unspecified';
}

/** Parses a CRL (DER) issued by `issuerCertificate` (DER); entries are read lazily. */
export function readCrl(der: Uint8Array, issuerCertificate: Uint8Array): ReadCrl {
  const buf = Buffer.from(der);
  try {
    const [tbsNode, algNode, sigNode] = children(readOne(buf, 0x30));
    const tbs = expect(tbsNode, 0x30, 'tbsCertList');
    let f = children(tbs);
    if (f[0]?.tag === 0x02) f = f.slice(1); // version v2
    const [, , thisUpdateNode, ...rest] = f;
    const thisUpdate = decodeTime(thisUpdateNode!);
    let nextUpdate: Date | null = null;
    if (rest[0] && (rest[0].tag === 0x17 || rest[0].tag === 0x18)) nextUpdate = decodeTime(rest.shift()!);
    const list = rest[0]?.tag === 0x30 ? rest[0] : undefined;
    expect(algNode, 0x30, 'signatureAlgorithm');
    const signature = bitStringBytes(expect(sigNode, 0x03, 'signature'));
    const key = createPublicKey(new X509Certificate(Buffer.from(issuerCertificate)).publicKey.export({ format: 'pem', type: 'spki' }));
    const signatureValid = verify('sha256', tbs.raw, key, signature);
    return {
      thisUpdate,
      nextUpdate,
      signatureValid,
      *entries() {
        if (!list) return;
        for (let p = 0; p < list.value.length; ) {
          const entry = readNode(list.value, p);
          p += entry.raw.length;
          const [serial, , extensions] = children(entry);
          yield { serial: integerHex(expect(serial, 0x02, 'userCertificate')), reason: entryReason(extensions) };
        }
      },
    };
  } catch (e) {
    if (e instanceof DerError || e instanceof TypeError) throw new PkiError('invalidArgument', `malformed CRL: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Which serial, the CertID's hash algorithm ('sha1', 'sha256', else its OID), and what it says. */
export type ReadOcspStatus = { serial: string; hashAlgorithm: string } & ({ status: 'good' } | { status: 'unknown' } | { status: 'revoked'; reason: RevocationReason });

const HASH_BY_OID = new Map<string, string>([[OID.sha1, 'sha1'], [OID.sha256, 'sha256']]);

/** The single response of a pre-signed OCSPResponse (DER): which serial, hashed how, and what it says. */
export function readOcspStatus(der: Uint8Array): ReadOcspStatus {
  const buf = Buffer.from(der);
  try {
    const [statusNode, bytesNode] = children(readOne(buf, 0x30));
    if (expect(statusNode, 0x0a, 'responseStatus').value[0] !== 0) throw new DerError('not a successful response');
    const [, basicOctets] = children(children(expect(bytesNode, 0xa0, 'responseBytes'))[0]!);
    const [responseData] = children(readOne(expect(basicOctets, 0x04, 'response').value, 0x30));
    const fields = children(expect(responseData, 0x30, 'tbsResponseData'));
    const responses = fields.find((n, i) => i > 0 && n.tag === 0x30 && fields[i - 1]!.tag === 0x18);
    const single = children(expect(responses, 0x30, 'responses'))[0];
    const [certId, certStatus] = children(expect(single, 0x30, 'SingleResponse'));
    const [hashAlgorithmNode, , , serialNode] = children(expect(certId, 0x30, 'CertID'));
    const hashOid = decodeOid(children(expect(hashAlgorithmNode, 0x30, 'hashAlgorithm'))[0]!);
    const about = { serial: integerHex(serialNode!), hashAlgorithm: HASH_BY_OID.get(hashOid) ?? hashOid };
    if (certStatus!.tag === 0x80) return { ...about, status: 'good' };
    if (certStatus!.tag === 0x82) return { ...about, status: 'unknown' };
    const [, reasonNode] = children(expect(certStatus, 0xa1, 'certStatus'));
    const reason = reasonNode ? (REASON_BY_CODE.get(readOne(reasonNode.value, 0x0a).value[0]!) ?? 'unspecified') : 'unspecified';
    return { ...about, status: 'revoked', reason };
  } catch (e) {
    if (e instanceof DerError || e instanceof TypeError) throw new PkiError('invalidArgument', `malformed OCSP response: ${e.message}`, { cause: e });
    throw e;
  }
}
