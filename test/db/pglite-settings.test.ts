import { sql } from 'kysely';
import t from 'tap';
import { openDatabase } from '../../src/db/connection.js';

// The default set-up's memory: PGlite starts with a 16 MB buffer pool, not initdb's 128 MB (README "Performance").
t.test('PGlite starts with the settings of PGLITE_SETTINGS', async (t) => {
  const handle = await openDatabase({ databaseUrl: undefined, dataDir: 'memory://', poolMax: 1, statementTimeoutMs: 60_000 });
  t.teardown(() => handle.close());
  const { rows } = await sql<{ shared_buffers: string }>`SHOW shared_buffers`.execute(handle.db);
  t.equal(rows[0]?.shared_buffers, '16MB');
});
