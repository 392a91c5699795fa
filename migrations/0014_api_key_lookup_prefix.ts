import { sql, type Kysely } from 'kysely';

/**
 * API keys are looked up by the first 16 hex digits of their secret's SHA-256 (64 bits) and the whole
 * stored hash is then compared in constant time in the service (src/services/api-keys.ts), so the
 * comparison that decides is one whose time does not depend on where the hashes differ.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX api_keys_secret_hash_prefix ON api_keys (left(secret_hash, 16))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX api_keys_secret_hash_prefix`.execute(db);
}
