import { sql, type Kysely } from 'kysely';

/**
 * The in-memory cache of pre-signed OCSP answers (src/services/ocsp-cache.ts), across several
 * service processes: every write to ocsp_responses, by the service or by hand, sends NOTIFY
 * ocsp_responses_changed naming the serials it touched (comma-separated, at most 200 a
 * notification, so a payload stays far below PostgreSQL's 8000 bytes). PostgreSQL delivers them to
 * every listening process when the writing transaction commits. TRUNCATE sends an empty payload:
 * forget everything. Statement-level triggers with transition tables, so a bulk refresh of 500
 * answers costs three notifications, not 500 trigger calls.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION notify_ocsp_responses_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      serials text;
    BEGIN
      IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('ocsp_responses_changed', '');
        RETURN NULL;
      END IF;
      FOR serials IN
        SELECT string_agg(serial, ',') FROM (SELECT serial, (row_number() OVER ()) / 200 AS part FROM changed_rows) s GROUP BY part
      LOOP
        PERFORM pg_notify('ocsp_responses_changed', serials);
      END LOOP;
      RETURN NULL;
    END $$`.execute(db);
  // A transition table can serve one event only: one trigger per event (an upsert fires both the
  // INSERT and the UPDATE one, each with its own rows). The serial is the key and never changes, so
  // the new rows of an UPDATE name every serial it touched.
  await sql`
    CREATE TRIGGER ocsp_responses_inserted AFTER INSERT ON ocsp_responses
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_ocsp_responses_changed()`.execute(db);
  await sql`
    CREATE TRIGGER ocsp_responses_updated AFTER UPDATE ON ocsp_responses
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_ocsp_responses_changed()`.execute(db);
  await sql`
    CREATE TRIGGER ocsp_responses_deleted AFTER DELETE ON ocsp_responses
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION notify_ocsp_responses_changed()`.execute(db);
  await sql`
    CREATE TRIGGER ocsp_responses_truncated AFTER TRUNCATE ON ocsp_responses
    FOR EACH STATEMENT EXECUTE FUNCTION notify_ocsp_responses_changed()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['inserted', 'updated', 'deleted', 'truncated']) await sql.raw(`DROP TRIGGER ocsp_responses_${t} ON ocsp_responses`).execute(db);
  await sql`DROP FUNCTION notify_ocsp_responses_changed()`.execute(db);
}
