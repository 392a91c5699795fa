import { sql, type Kysely } from 'kysely';

/**
 * Both OCSP answers are pre-signed again (services/ocsp-answers.ts): every status change, refresh
 * and responder renewal signs the SHA-1 and the SHA-256 CertID answer and stores them together, and
 * the request path signs nothing for an issued serial. From now on no row may be written without
 * its SHA-256 answer. NOT VALID: rows written while it was signed on request (migration 0010) may
 * still hold NULL; the background refresh treats them as due and signs them first (until then the
 * responder answers a SHA-256 CertID for such a row with `tryLater`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE ocsp_responses ADD CONSTRAINT ocsp_responses_sha256_signed CHECK (sha256_der IS NOT NULL) NOT VALID`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
