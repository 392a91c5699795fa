import { sql } from 'kysely';
import t from 'tap';
import { openDatabase, queryTimeoutMs } from '../../src/db/connection.js';
import { createTestDatabase } from '../support/database.js';

t.test('the client-side query timeout follows a transaction that lifted statement_timeout, and only it', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const statementTimeoutMs = 300;
  const handle = await openDatabase({ databaseUrl: database.url, dataDir: '', poolMax: 2, statementTimeoutMs });
  t.teardown(() => handle.close());
  t.equal(queryTimeoutMs(statementTimeoutMs), 1300, 'the client waits a second longer than the server');
  t.equal(queryTimeoutMs(60_000), 72_000, 'or a fifth longer');

  // 1.6 s: past the client-side timeout (1.3 s) of an ordinary query.
  const lifted = await handle.db.transaction().execute(async (trx) => {
    await sql`SET LOCAL statement_timeout = '10s'`.execute(trx);
    return (await sql<{ ok: number }>`SELECT 1 AS ok FROM pg_sleep(1.6)`.execute(trx)).rows[0]?.ok;
  });
  t.equal(lifted, 1, 'a long statement in a transaction that lifted statement_timeout is not cut by the client');

  const after = await sql`SELECT pg_sleep(1.6)`.execute(handle.db).then(() => 'answered', (e: Error & { code?: string }) => e.code ?? e.message);
  t.equal(after, '57014', 'after it, the server’s statement_timeout applies again');
});
