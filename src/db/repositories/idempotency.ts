import type { Kysely } from 'kysely';
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

/**
 * Claims the key inside the caller's transaction. A concurrent claim of the same key waits on the
 * primary key until the first transaction ends, then sees its row: the work is never done twice.
 * Returns undefined when the claim is new, else what the first request stored.
 */
export async function claimIdempotencyKey(db: Kysely<Database>, c: IdempotencyClaim): Promise<StoredResponse | undefined> {
  const inserted = await db
    .insertInto('idempotency_keys')
    .values({
      key_id: c.keyId,
      idempotency_key: c.idempotencyKey,
      method: c.method,
      path: c.path,
      request_hash: c.requestHash,
      status_code: null,
      response_body: null,
      created_at: c.at,
    })
    .onConflict((oc) => oc.columns(['key_id', 'idempotency_key']).doNothing())
    .returning('key_id')
    .executeTakeFirst();
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
  await db
    .updateTable('idempotency_keys')
    .set({ status_code: statusCode, response_body: JSON.stringify(body) })
    .where('key_id', '=', keyId)
    .where('idempotency_key', '=', idempotencyKey)
    .execute();
}
