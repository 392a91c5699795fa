import { sql, type Kysely } from 'kysely';

/**
 * In-memory copies of the reference data every counter procedure reads (offices, maintenance
 * closures, fee schedules: src/services/reference-data.ts), across several service processes:
 * every write to those tables, by the service or by hand, sends NOTIFY reference_data_changed
 * with the table's name, which PostgreSQL delivers to every listening process when the writing
 * transaction commits (as migration 0007 does for api_keys).
 */
const TABLES = ['offices', 'calendar_closures', 'fee_schedules'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION notify_reference_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('reference_data_changed', TG_TABLE_NAME);
      RETURN NULL;
    END $$`.execute(db);
  for (const table of TABLES) {
    await sql`
      CREATE TRIGGER ${sql.raw(`${table}_changed`)} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${sql.table(table)}
      FOR EACH STATEMENT EXECUTE FUNCTION notify_reference_data_changed()`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of TABLES) await sql`DROP TRIGGER ${sql.raw(`${table}_changed`)} ON ${sql.table(table)}`.execute(db);
  await sql`DROP FUNCTION notify_reference_data_changed()`.execute(db);
}
