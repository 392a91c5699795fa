import type { ColumnType, Generated } from 'kysely';

/** One typed interface for every table (Kysely docs). `date` columns are 'YYYY-MM-DD' strings, int8 are strings. */
export interface Database {
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  idempotency_keys: IdempotencyKeysTable;
}

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface ApiKeysTable {
  key_id: string;
  name: string;
  scopes: string[];
  secret_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface AuditLogTable {
  id: Generated<string>;
  at: Timestamp;
  key_id: string | null;
  action: string;
  resource: string;
  request_id: string | null;
  detail: ColumnType<Record<string, unknown> | null, string | null, never>;
}

export interface IdempotencyKeysTable {
  key_id: string;
  idempotency_key: string;
  method: string;
  path: string;
  request_hash: string;
  status_code: number | null;
  response_body: ColumnType<unknown, string | null, string | null>;
  created_at: Timestamp;
}
