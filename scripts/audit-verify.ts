/**
 * `npm run audit:verify`: recomputes the audit hash chain of DATABASE_URL (or the PGlite DATA_DIR)
 * and prints the report as JSON. Exit code 0 when the chain holds, 1 when a link is broken, 2 on error.
 */
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/connection.js';
import { verifyAuditChain } from '../src/db/repositories/audit-log.js';

async function main(): Promise<number> {
  const config = loadConfig();
  const handle = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 1, statementTimeoutMs: 600_000 });
  try {
    const report = await verifyAuditChain(handle.db);
    console.log(JSON.stringify(report, null, 2));
    if (!report.ok) console.error(`audit chain broken at row ${report.firstBroken?.id ?? '(head)'}: ${report.firstBroken?.problem}`);
    return report.ok ? 0 : 1;
  } finally {
    await handle.close();
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`audit:verify failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
}
