import { sql } from 'kysely';
import t from 'tap';
import { migrateToLatest, migrationsCurrent } from '../../src/db/migrator.js';
import { createTestDatabase, openTestDatabase } from '../support/database.js';

// The usual restart reads the applied migrations with one SELECT (src/db/migrator.ts); anything
// but an exact match goes through Kysely's migrator as before.
t.test('migrated database: nothing to apply; a newer version\'s migration keeps readiness but stops a start', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const handle = await openTestDatabase(database.url);
  t.teardown(() => handle.close());
  const db = handle.db as never;

  t.same(await migrateToLatest(db), [], 'a migrated database: nothing applied');
  t.equal(await migrationsCurrent(db), true);

  await sql`insert into kysely_migration (name, timestamp) values ('9999_from_a_newer_version', now())`.execute(handle.db);
  t.equal(await migrationsCurrent(db), true, 'every migration this code has is applied: still ready while a newer version rolls out');
  await t.rejects(migrateToLatest(db), /9999_from_a_newer_version/, 'Kysely refuses a migration it does not know, as before');

  await sql`alter table kysely_migration rename to kysely_migration_gone`.execute(handle.db);
  t.equal(await migrationsCurrent(db), false, 'no table of applied migrations: not current');
});
