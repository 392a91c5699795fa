/**
 * `npm run restore -- <file>`: migrates DATABASE_URL (or the PGlite DATA_DIR) and loads a backup made
 * by `npm run backup`. The target must be fresh (no certificates, no audit rows). Run
 * `npm run audit:verify` afterwards: the audit chain must verify.
 */
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/connection.js';
import { migrateToLatest } from '../src/db/migrator.js';
import { restoreFrom } from './backup-format.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: npm run restore -- <file>');
  process.exit(64);
}
const config = loadConfig();
const handle = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 1, statementTimeoutMs: 3_600_000 });
try {
  await migrateToLatest(handle.db as never);
  const counts = await restoreFrom(handle.db, file);
  console.log(JSON.stringify({ file, rows: counts }));
} catch (error) {
  console.error(`restore failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await handle.close();
}
