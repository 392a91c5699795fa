import { CompiledQuery, type Kysely } from 'kysely';
import { preparedQuery } from '../prepared-queries.js';
import type { Database } from '../schema.js';

export interface IdempotencyClaim {
  keyId: string;
  idempotencyKey: string;
  method: string;
  path: string;
  requestHash: string;
  at: Date;
}

export interface StoredResponse {
  requestHash: string;
  method: string;
  path: string;
  statusCode: number | null;
  body: unknown;
}

// Every retried write runs both: written out and sent as prepared statements.
const claimQuery = preparedQuery(() => CompiledQuery.raw(`
  INSERT INTO idempotency_keys (key_id, idempotency_key, method, path, request_hash, status_code, response_body, created_at)
  VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6)
  ON CONFLICT (key_id, idempotency_key) DO NOTHING
  RETURNING key_id`, new Array(6).fill(null)) as CompiledQuery<{ key_id: string }>);

const storeQuery = preparedQuery(() => CompiledQuery.raw(`
  UPDATE idempotency_keys SET status_code = $1, response_body = $2 WHERE key_id = $3 AND idempotency_key = $4`, new Array(4).fill(null)));

/**
 * Claims the key inside the caller's transaction. A concurrent claim of the same key waits on the
 * primary key until the first transaction ends, then sees its row: the work is never done twice.
 * Returns undefined when the claim is new, else what the first request stored.
 */
export async function claimIdempotencyKey(db: Kysely<Database>, c: IdempotencyClaim): Promise<StoredResponse | undefined> {
  const inserted = (await claimQuery(db, [c.keyId, c.idempotencyKey, c.method, c.path, c.requestHash, c.at])).rows[0];
  if (inserted) return undefined;
  const row = await db
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'method', 'path', 'status_code', 'response_body'])
    .where('key_id', '=', c.keyId)
    .where('idempotency_key', '=', c.idempotencyKey)
    .executeTakeFirstOrThrow();
  return { requestHash: row.request_hash, method: row.method, path: row.path, statusCode: row.status_code, body: row.response_body };
}

export async function storeIdempotentResponse(db: Kysely<Database>, keyId: string, idempotencyKey: string, statusCode: number, body: unknown): Promise<void> {
  await storeQuery(db, [statusCode, JSON.stringify(body), keyId, idempotencyKey]);
}
