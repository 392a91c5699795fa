import { sql, type Kysely } from 'kysely';

/**
 * A cheap fingerprint of every table, to prove a refused request changed nothing: row count, the sum
 * of the rows' xmin (every insert or update writes a row version with a new transaction id) and the
 * highest ctid. Migration bookkeeping is left out.
 */
export async function dbFingerprint(db: Kysely<any>): Promise<Record<string, string>> {
  const tables = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'kysely_%'
    ORDER BY table_name`.execute(db);
  const parts = tables.rows.map((r) => sql`SELECT ${r.table_name}::text AS t, count(*)::text || ':' || coalesce(sum(x.xmin::text::bigint), 0)::text || ':' || coalesce(max(x.ctid::text), '') AS h FROM ${sql.table(r.table_name)} x`);
  if (parts.length === 0) return {};
  const rows = await sql<{ t: string; h: string }>`${sql.join(parts, sql` UNION ALL `)}`.execute(db);
  return Object.fromEntries(rows.rows.map((r) => [r.t, r.h]));
}

export function fingerprintDiff(a: Record<string, string>, b: Record<string, string>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]);
}

/**
 * Counts committed writes per table with statement-level triggers in a test database, so that a
 * refused request can be checked in one cheap read: a rolled-back transaction rolls its count back too.
 */
export async function installWriteCounter(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE zz_write_counter (table_name text PRIMARY KEY, writes bigint NOT NULL DEFAULT 0)`.execute(db);
  await sql`
    CREATE FUNCTION zz_count_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO zz_write_counter AS c (table_name, writes) VALUES (TG_TABLE_NAME, 1)
      ON CONFLICT (table_name) DO UPDATE SET writes = c.writes + 1;
      RETURN NULL;
    END $$`.execute(db);
  const tables = await sql<{ table_name: string }>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'kysely_%' AND table_name <> 'zz_write_counter'`.execute(db);
  for (const { table_name } of tables.rows) {
    await sql`CREATE TRIGGER zz_count_write AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${sql.table(table_name)} FOR EACH STATEMENT EXECUTE FUNCTION zz_count_write()`.execute(db);
  }
}

export async function writeCounts(db: Kysely<any>): Promise<Record<string, string>> {
  const rows = await sql<{ table_name: string; writes: string }>`SELECT table_name, writes::text AS writes FROM zz_write_counter`.execute(db);
  return Object.fromEntries(rows.rows.map((r) => [r.table_name, r.writes]));
}
