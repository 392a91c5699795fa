import { sql, type Kysely } from 'kysely';

/**
 * Appends many audit rows to the chain in one round trip (a batch chunk writes hundreds): locks the
 * chain head, links each entry to the one before it with audit_row_hash (migration 0006), in array
 * order, and moves the head once. appendAudit calls it for one row as well, so there is one way to
 * write the chain.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION audit_append(entries jsonb) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      e jsonb;
      h text;
      new_id bigint;
      new_at timestamptz;
    BEGIN
      SELECT last_hash INTO h FROM audit_chain_head WHERE singleton FOR UPDATE;
      IF h IS NULL THEN RAISE EXCEPTION 'audit_chain_head is missing (migration 0006)'; END IF;
      FOR e IN SELECT value FROM jsonb_array_elements(entries) LOOP
        new_id := nextval(pg_get_serial_sequence('audit_log', 'id'));
        new_at := (e->>'at')::timestamptz;
        INSERT INTO audit_log (id, at, key_id, action, resource, request_id, detail, prev_hash, hash)
        VALUES (new_id, new_at, e->>'keyId', e->>'action', e->>'resource', e->>'requestId', e->'detail', h,
                audit_row_hash(h, new_id, new_at, e->>'keyId', e->>'action', e->>'resource', e->>'requestId', e->'detail'))
        RETURNING hash INTO h;
      END LOOP;
      IF new_id IS NOT NULL THEN
        UPDATE audit_chain_head SET last_id = new_id, last_hash = h WHERE singleton;
      END IF;
    END $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION audit_append(jsonb)`.execute(db);
}
