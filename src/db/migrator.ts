import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileMigrationProvider, Migrator, type Kysely, type MigrationProvider } from 'kysely';
import { bundledMigrations } from './bundled-migrations.js';

const MIGRATION_TABLE = 'kysely_migration'; // Kysely's default, which migrator() keeps

function provider(): MigrationProvider {
  if (bundledMigrations) {
    const migrations = bundledMigrations;
    return { getMigrations: async () => migrations };
  }
  const migrationFolder = fileURLToPath(new URL('../../migrations', import.meta.url));
  return new FileMigrationProvider({ fs, path, migrationFolder });
}

export function migrator(db: Kysely<unknown>): Migrator {
  return new Migrator({ db, provider: provider() });
}

let names: Promise<string[]> | undefined;

/** The names of every migration this code has (they do not change while it runs). */
function migrationNames(): Promise<string[]> {
  names ??= provider().getMigrations().then((all) => Object.keys(all));
  names.catch(() => {
    names = undefined;
  });
  return names;
}

/** This code's migrations, and those the database has applied (undefined when it has no readable table of them). */
async function migrationState(db: Kysely<unknown>): Promise<{ all: string[]; applied: Set<string> | undefined }> {
  const [all, applied] = await Promise.all([
    migrationNames(),
    (db as Kysely<Record<typeof MIGRATION_TABLE, { name: string }>>)
      .selectFrom(MIGRATION_TABLE)
      .select('name')
      .execute()
      .then((rows) => new Set(rows.map((r) => r.name)), () => undefined),
  ]);
  return { all, applied };
}

/**
 * Applies every pending migration; throws with the failing migration's name. When the database
 * has applied exactly this code's migrations, one SELECT says so and Kysely's migrator (catalogue
 * queries, a lock, a transaction) is skipped: the usual restart. Anything else, including a
 * migration this code does not know, goes through the migrator as before.
 */
export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  const { all, applied } = await migrationState(db);
  if (applied && applied.size === all.length && all.every((name) => applied.has(name))) return [];
  const { error, results } = await migrator(db).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return (results ?? []).map((r) => r.migrationName);
}

/**
 * True when every migration this code has is applied (one more, from a newer version rolling
 * out, leaves this one ready). False when the table of applied migrations is missing.
 */
export async function migrationsCurrent(db: Kysely<unknown>): Promise<boolean> {
  const { all, applied } = await migrationState(db);
  return applied !== undefined && all.every((name) => applied.has(name));
}
