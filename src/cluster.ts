import cluster, { type Worker } from 'node:cluster';
import { pino } from 'pino';
import type { Config } from './config.js';
import { loggerOptions } from './logger.js';

/**
 * WORKERS > 1: this process becomes a node:cluster primary that forks WORKERS copies of the service
 * (`exec`, the module src/server.ts was loaded from), each running buildApp and listening on the
 * shared port (the primary accepts connections and hands them to the workers in turn). The workers
 * are replicas as in README "Scaling": caches kept right by NOTIFY, background jobs under advisory
 * locks. The primary itself never opens the database; it only
 * - forwards SIGTERM/SIGINT to the workers and exits once they have all closed (0 when every one
 *   closed cleanly); a second signal kills them at once (SIGKILL) and exits 1;
 * - replaces a worker that dies on its own, and gives up (stops the others, exits 1) when workers
 *   keep dying at start-up: MAX_STARTUP_FAILURES in a row, each waited for twice as long as the last.
 * A worker that dies, the primary dying too: Node's cluster workers exit when their primary goes.
 */

/** A worker that dies before listening, or within this long of it, failed at start-up. */
const STARTUP_FAILURE_MS = 10_000;
/** Start-up failures in a row after which the primary gives up. */
export const MAX_STARTUP_FAILURES = 5;
/** Wait before replacing a worker after the first start-up failure in a row (doubled for each next one). */
const FIRST_RETRY_MS = 1000;

export function runPrimary(config: Config, exec: string): void {
  const log = pino(loggerOptions(config.logLevel));
  cluster.setupPrimary({ exec });
  const live = new Map<Worker, { listeningSince?: number; stable?: NodeJS.Timeout }>();
  const respawns = new Set<NodeJS.Timeout>();
  let failures = 0;
  let stopping = false;
  let clean = true;

  const exitWhenAllClosed = () => {
    if (live.size > 0) return;
    log.info({ clean }, clean ? 'every worker closed' : 'workers closed, not all cleanly');
    process.exit(clean ? 0 : 1);
  };
  const stopAll = (signal: NodeJS.Signals) => {
    stopping = true;
    for (const timer of respawns) clearTimeout(timer);
    respawns.clear();
    for (const worker of live.keys()) worker.process.kill(signal);
    exitWhenAllClosed();
  };
  const fork = () => {
    const worker = cluster.fork();
    live.set(worker, {});
    log.info({ worker: worker.id, workerPid: worker.process.pid }, 'worker started');
  };

  cluster.on('listening', (worker, address) => {
    const state = live.get(worker);
    if (!state) return;
    state.listeningSince = performance.now();
    // Listening for a while counts as a good start: the failure streak ends.
    state.stable = setTimeout(() => (failures = 0), STARTUP_FAILURE_MS).unref();
    log.info({ worker: worker.id, workerPid: worker.process.pid, port: address.port }, 'worker listening');
  });

  cluster.on('exit', (worker, code, signal) => {
    const state = live.get(worker);
    live.delete(worker);
    clearTimeout(state?.stable);
    const ended = { worker: worker.id, workerPid: worker.process.pid, code, signal };
    if (stopping) {
      if (code !== 0) clean = false;
      log.info(ended, 'worker closed');
      exitWhenAllClosed();
      return;
    }
    const since = state?.listeningSince;
    const atStartUp = since === undefined || performance.now() - since < STARTUP_FAILURE_MS;
    if (atStartUp) failures += 1;
    log.error({ ...ended, startUpFailuresInARow: failures }, 'worker died unexpectedly');
    if (failures >= MAX_STARTUP_FAILURES) {
      log.fatal({ failures }, 'workers keep dying at start-up: giving up');
      clean = false;
      stopAll('SIGTERM');
      return;
    }
    const delay = atStartUp ? FIRST_RETRY_MS * 2 ** (failures - 1) : 0;
    const timer = setTimeout(() => {
      respawns.delete(timer);
      if (!stopping) fork();
    }, delay);
    respawns.add(timer);
  });

  for (const first of ['SIGTERM', 'SIGINT'] as const) {
    process.on(first, (signal: NodeJS.Signals) => {
      if (!stopping) {
        log.info({ signal, workers: live.size }, 'closing: signalling the workers');
        stopAll('SIGTERM');
        return;
      }
      log.error({ signal }, 'second signal: killing the workers');
      for (const worker of live.keys()) worker.process.kill('SIGKILL');
      process.exit(1);
    });
  }

  log.info({ workers: config.workers, port: config.port, host: config.host }, 'starting workers');
  for (let i = 0; i < config.workers; i++) fork();
}
