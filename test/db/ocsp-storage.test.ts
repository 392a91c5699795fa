import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import t from 'tap';
import { createTestDatabase, openTestDatabase } from '../support/database.js';

// Both OCSP answers of a certificate (~1.6 KB of DER each, which does not compress) stay in the heap
// row (migration 0016): no compression attempt and no TOAST write per status change.
t.test('an ocsp_responses row with both answers is stored inline, not in its TOAST table', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const handle = await openTestDatabase(database.url);
  t.teardown(() => handle.close());
  const db = handle.db;
  const toastBytes = async () =>
    Number((await sql<{ n: string }>`select pg_relation_size(reltoastrelid) as n from pg_class where relname = 'ocsp_responses'`.execute(db)).rows[0]!.n);
  t.equal(await toastBytes(), 0);
  await db.connection().execute(async (c) => {
    // A row without its certificate: foreign keys and the NOTIFY trigger are not the point here.
    await sql`set session_replication_role = replica`.execute(c);
    for (let i = 0; i < 20; i++) {
      await sql`insert into ocsp_responses (serial, ca_id, status, sha1_der, sha256_der, this_update, next_update)
        values (${`s${i}`}, 'signature', 'good', ${randomBytes(1650)}, ${randomBytes(1680)}, now(), now())`.execute(c);
    }
  });
  t.equal(await toastBytes(), 0, '20 rows of two 1.6 KB answers: nothing went to TOAST');
});
