import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface ApiKeyRecord {
  keyId: string;
  name: string;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

const COLUMNS = ['key_id', 'name', 'scopes', 'created_at', 'expires_at', 'revoked_at'] as const;

function toRecord(r: { key_id: string; name: string; scopes: string[]; created_at: Date; expires_at: Date | null; revoked_at: Date | null }): ApiKeyRecord {
  return { keyId: r.key_id, name: r.name, scopes: r.scopes, createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at };
}

function row(key: ApiKeyRecord, secretHash: string) {
  return {
    key_id: key.keyId,
    name: key.name,
    scopes: key.scopes,
    secret_hash: secretHash,
    created_at: key.createdAt,
    expires_at: key.expiresAt,
    revoked_at: key.revokedAt,
  };
}

export async function insertApiKey(db: Kysely<Database>, key: ApiKeyRecord, secretHash: string): Promise<void> {
  await db.insertInto('api_keys').values(row(key, secretHash)).execute();
}

/** The bootstrap admin key follows ADMIN_API_KEY: a changed variable replaces the stored hash. */
export async function upsertApiKey(db: Kysely<Database>, key: ApiKeyRecord, secretHash: string): Promise<void> {
  await db
    .insertInto('api_keys')
    .values(row({ ...key, expiresAt: null, revokedAt: null }, secretHash))
    .onConflict((oc) => oc.column('key_id').doUpdateSet({ secret_hash: secretHash, scopes: key.scopes, revoked_at: null }))
    .execute();
}

/** Characters of the secret hash the lookup uses (64 bits; index of migration 0014). */
export const SECRET_HASH_PREFIX_LENGTH = 16;

/**
 * The keys whose stored secret hash starts like this one (in practice one or none), with that stored
 * hash: the caller decides by comparing it whole, in constant time.
 */
export async function findApiKeysBySecretHashPrefix(db: Kysely<Database>, secretHash: string): Promise<(ApiKeyRecord & { secretHash: string })[]> {
  const prefix = secretHash.slice(0, SECRET_HASH_PREFIX_LENGTH);
  const rows = await db
    .selectFrom('api_keys')
    .select([...COLUMNS, 'secret_hash'])
    .where(sql<string>`left(secret_hash, ${sql.lit(SECRET_HASH_PREFIX_LENGTH)})`, '=', prefix)
    .execute();
  return rows.map((r) => ({ ...toRecord(r), secretHash: r.secret_hash }));
}

export async function findApiKey(db: Kysely<Database>, keyId: string): Promise<ApiKeyRecord | undefined> {
  const row = await db.selectFrom('api_keys').select(COLUMNS).where('key_id', '=', keyId).executeTakeFirst();
  return row && toRecord(row);
}

export async function listApiKeys(db: Kysely<Database>, afterKeyId: string | undefined, limit: number): Promise<ApiKeyRecord[]> {
  let q = db.selectFrom('api_keys').select(COLUMNS).orderBy('key_id').limit(limit);
  if (afterKeyId) q = q.where('key_id', '>', afterKeyId);
  return (await q.execute()).map(toRecord);
}

export async function revokeApiKey(db: Kysely<Database>, keyId: string, at: Date): Promise<boolean> {
  const res = await db.updateTable('api_keys').set({ revoked_at: at }).where('key_id', '=', keyId).where('revoked_at', 'is', null).executeTakeFirst();
  return res.numUpdatedRows > 0n;
}
