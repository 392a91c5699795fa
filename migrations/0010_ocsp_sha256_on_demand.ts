import { sql, type Kysely } from 'kysely';

/**
 * A status change pre-signs the SHA-1 CertID answer only (what openssl, Windows and most relying
 * parties ask for); the SHA-256 one is signed on its first request, with the same status and window
 * as the stored SHA-1 answer, and stored beside it (services/certificate-status.ts). That halves the
 * RSA signatures of every revocation, issuance and refresh. NULL: not signed since the last change.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE ocsp_responses ALTER COLUMN sha256_der DROP NOT NULL`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
