/** `npm run backup -- <file>`: a logical backup of DATABASE_URL (or the PGlite DATA_DIR) into <file> (gzip'ed NDJSON, mode 0600). */
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/connection.js';
import { backupTo } from './backup-format.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: npm run backup -- <file>');
  process.exit(64);
}
const config = loadConfig();
const handle = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 1, statementTimeoutMs: 3_600_000 });
try {
  const counts = await backupTo(handle.db, file);
  console.log(JSON.stringify({ file, rows: counts }));
} catch (error) {
  console.error(`backup failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await handle.close();
}
