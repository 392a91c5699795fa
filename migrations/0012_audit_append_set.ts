import { sql, type Kysely } from 'kysely';

/**
 * audit_append (migration 0008) inserted its entries one INSERT at a time from a plpgsql loop: in a
 * bulk batch that was the largest share of PostgreSQL's time (~0.16 ms an entry). The chain is
 * still computed link by link, but into arrays, and the rows go in with one INSERT … SELECT.
 * audit_row_hash is relabelled STABLE (its to_char is STABLE, so as IMMUTABLE it was never inlined
 * and ran through the SQL-function executor for every row); what it computes does not change.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER FUNCTION audit_row_hash(text, bigint, timestamptz, text, text, text, text, jsonb) STABLE`.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION audit_append(entries jsonb) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      n int := jsonb_array_length(entries);
      h text;
      ids bigint[];
      prevs text[] := '{}';
      hashes text[] := '{}';
      e jsonb;
    BEGIN
      SELECT last_hash INTO h FROM audit_chain_head WHERE singleton FOR UPDATE;
      IF h IS NULL THEN RAISE EXCEPTION 'audit_chain_head is missing (migration 0006)'; END IF;
      IF n = 0 THEN RETURN; END IF;
      -- Taken while holding the chain head, so ids follow chain order.
      ids := ARRAY(SELECT nextval(pg_get_serial_sequence('audit_log', 'id')) FROM generate_series(1, n));
      FOR i IN 1..n LOOP
        e := entries->(i - 1);
        prevs[i] := h;
        h := audit_row_hash(h, ids[i], (e->>'at')::timestamptz, e->>'keyId', e->>'action', e->>'resource', e->>'requestId', e->'detail');
        hashes[i] := h;
      END LOOP;
      INSERT INTO audit_log (id, at, key_id, action, resource, request_id, detail, prev_hash, hash)
      SELECT ids[o], (x.e->>'at')::timestamptz, x.e->>'keyId', x.e->>'action', x.e->>'resource', x.e->>'requestId', x.e->'detail', prevs[o], hashes[o]
      FROM jsonb_array_elements(entries) WITH ORDINALITY AS x(e, o);
      UPDATE audit_chain_head SET last_id = ids[n], last_hash = h WHERE singleton;
    END $$`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
