import { sql, type Kysely } from 'kysely';

/**
 * PKI bookkeeping beyond 0002:
 * - certificate_authorities.crl_changes counts status changes that affect the CRL. A regeneration
 *   clears crl_stale_since only if the counter did not move while it was building, so a revocation
 *   committed during a (possibly seconds-long) build is never lost and never blocked by it.
 * - ocsp_responses(ca_id, this_update): finds responses signed before a responder renewal.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('certificate_authorities')
    .addColumn('crl_changes', 'int8', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('ocsp_responses_ca_this_update').on('ocsp_responses').columns(['ca_id', 'this_update']).execute();
  await sql`CREATE INDEX crls_latest ON crls (ca_id, crl_number DESC)`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
