import { sql, type Kysely } from 'kysely';

/**
 * With both answers pre-signed (migration 0013) an ocsp_responses row holds two DER responses of
 * ~1.6 KB each, past PostgreSQL's default 2 KB toast threshold: every status change then tried to
 * compress both (DER does not compress) and wrote them out of line to the TOAST table. Rows up to
 * ~4 KB now stay in the heap page, and a value that does go out of line is not compressed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE ocsp_responses SET (toast_tuple_target = 4080)`.execute(db);
  await sql`ALTER TABLE ocsp_responses ALTER COLUMN sha1_der SET STORAGE EXTERNAL, ALTER COLUMN sha256_der SET STORAGE EXTERNAL`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
