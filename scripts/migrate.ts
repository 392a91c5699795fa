/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the PGlite DATA_DIR) and exits. */
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/connection.js';
import { migrateToLatest } from '../src/db/migrator.js';

const config = loadConfig();
const handle = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 1, statementTimeoutMs: 600_000 });
try {
  const applied = await migrateToLatest(handle.db as never);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'migrations already current');
} finally {
  await handle.close();
}
