import { sql, type Kysely } from 'kysely';

/**
 * In-memory caches across several service processes (src/services/cache-invalidation.ts): every
 * write to api_keys, by the service or by hand, sends NOTIFY api_keys_changed, which PostgreSQL
 * delivers to every listening process when the writing transaction commits.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION notify_api_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('api_keys_changed', '');
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION notify_api_keys_changed()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER api_keys_changed ON api_keys`.execute(db);
  await sql`DROP FUNCTION notify_api_keys_changed()`.execute(db);
}
