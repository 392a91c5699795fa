import { sql, type Kysely } from 'kysely';

/**
 * Tamper-evident audit log: every row carries `hash` = SHA-256 over its content and the previous
 * row's hash (`prev_hash`), so an edited, deleted or inserted row breaks the chain from there on.
 * `audit_chain_head` (one row) holds the last link; appending locks it FOR UPDATE, so links are made
 * one transaction at a time and ids follow chain order. The hash is defined once, here, in SQL
 * (`audit_row_hash`), and used by appendAudit and by the verification alike.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION audit_row_hash(prev text, id bigint, at timestamptz, key_id text, action text, resource text, request_id text, detail jsonb)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT encode(sha256(convert_to(jsonb_build_array(
        prev, id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), key_id, action, resource, request_id, detail
      )::text, 'UTF8')), 'hex')
    $$`.execute(db);

  await sql`ALTER TABLE audit_log ADD COLUMN prev_hash text, ADD COLUMN hash text`.execute(db);
  await sql`
    CREATE TABLE audit_chain_head (
      singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      last_id bigint,
      last_hash text NOT NULL
    )`.execute(db);

  // Rows written before this migration are chained in id order, so the whole history is covered.
  await sql`ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`.execute(db);
  await sql`
    DO $$
    DECLARE
      r record;
      h text := repeat('0', 64);
      last bigint := NULL;
    BEGIN
      FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        UPDATE audit_log SET prev_hash = h,
          hash = audit_row_hash(h, r.id, r.at, r.key_id, r.action, r.resource, r.request_id, r.detail)
          WHERE id = r.id RETURNING hash INTO h;
        last := r.id;
      END LOOP;
      INSERT INTO audit_chain_head (singleton, last_id, last_hash) VALUES (true, last, h);
    END $$`.execute(db);
  await sql`ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only`.execute(db);
  await sql`ALTER TABLE audit_log ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
