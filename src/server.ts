import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { runPrimary } from './cluster.js';
import { ConfigError, loadConfig } from './config.js';

/**
 * Loads the settings, listens, and closes gracefully (finishing in-flight requests) on SIGTERM/SIGINT.
 * With WORKERS > 1 this process is a node:cluster primary instead (src/cluster.ts), and each of the
 * workers it forks from this same file runs the service as one process does.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  if (config.workers > 1 && cluster.isPrimary) {
    runPrimary(config, fileURLToPath(import.meta.url));
    return;
  }
  const app = await buildApp(config);
  closeWithGrace(
    {
      delay: 10_000,
      // A worker gets the signal twice when a terminal's Ctrl-C reaches the whole process group and
      // the primary passes it on too: the first one closes, the primary decides about any further one.
      ...(cluster.isWorker ? { onSecondSignal: (signal: string) => app.log.warn({ signal }, 'already closing') } : {}),
    },
    async ({ signal, err }) => {
      if (err) app.log.error({ err }, 'closing after an error');
      else app.log.info({ signal }, 'closing');
      await app.close();
    },
  );
  await app.listen({ port: config.port, host: config.host });
}

await main();
