// Reads for the PKI consistency check (GET /v1/pki/consistency): every certificate
// of a CA with its stored OCSP answers, in serial order, page by page.
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface CertificateWithOcsp {
  serial: string;
  status: string;
  reason: string | null;
  ocspSha1: Uint8Array | null;
  /** null only in a row written before migration 0013 and not re-signed since. */
  ocspSha256: Uint8Array | null;
}

export async function certificatesWithOcspPage(db: Kysely<Database>, caId: string, afterSerial: string, limit: number): Promise<CertificateWithOcsp[]> {
  const rows = await db
    .selectFrom('certificates as c')
    .leftJoin('ocsp_responses as o', 'o.serial', 'c.serial')
    .select(['c.serial', 'c.status', 'c.revocation_reason', 'o.sha1_der', 'o.sha256_der'])
    .where('c.ca_id', '=', caId)
    .where('c.serial', '>', afterSerial)
    .orderBy('c.serial')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ serial: r.serial, status: r.status, reason: r.revocation_reason, ocspSha1: r.sha1_der ?? null, ocspSha256: r.sha256_der ?? null }));
}
