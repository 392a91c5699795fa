// Background PKI work, safe to run in every replica:
// - CRLs: regenerated promptly after status changes. changeCertificateStatus sends
//   NOTIFY crl_stale in its transaction (delivered at commit); notifications are
//   debounced so that a burst gives one regeneration (a rebuild covers every change
//   committed before it reads the CA's change count; those committed after give
//   exactly one more: regenerateCrl), and regenerations are paced
//   by their own cost (see crlPacing), so that a long bulk batch revoking
//   continuously does not spend its CPU rebuilding an ever larger CRL. A poll every few seconds is the
//   safety net (a lost notification, a change made while no process listened) and
//   also republishes each CRL at half its validity.
// - OCSP: stored answers re-signed at half-life, and after a responder renewal.
// - Responder certificates: renewed a third of their life before expiry.
// Each job runs under a session advisory lock on a dedicated connection, so one
// process does it at a time; everything it needs to resume (crl_stale_since,
// next_update of each answer, the responder certificates) is in the database.
import type { DbHandle } from '../db/connection.js';
import { openMaintenanceConnection, type MaintenanceConnection } from '../db/maintenance-connection.js';
import { PKI_LOCK_NAMESPACE } from '../db/repositories/pki.js';
import { reloadResponders, renewRespondersIfDue } from './certificate-authority.js';
import { regenerateStaleCrls } from './certificate-status.js';
import { refreshOcspResponses } from './ocsp-answers.js';
import type { ServiceContext } from './context.js';

// Session lock keys (the CRL builder's transaction locks use 1 and 2 in the same namespace).
const LOCK = { responders: 100, crl: 101, ocsp: 102 } as const;

export interface PkiMaintenanceOptions {
  /** Where the dedicated connection takes its settings from. */
  database: DbHandle;
  /** Safety-net poll and OCSP refresh period (default 5 s). */
  pollMs?: number;
  /** How long to gather notifications into one CRL regeneration (default 200 ms). */
  debounceMs?: number;
  /** Most OCSP answers re-signed per run, so one run stays short (default 5000; more follow at once). */
  ocspBatchLimit?: number;
  /**
   * After a CRL regeneration that took d ms, the next waits until d × crlPacing ms have passed (default
   * 9: CRL building takes at most about a tenth of the time). Small CRLs are back within the debounce;
   * a CRL of a million entries (~8 s to build) follows a continuous stream of revocations about every
   * 80 s. OCSP answers are signed with each status change and are never paced.
   */
  crlPacing?: number;
}

export interface PkiMaintenance {
  stop(): Promise<void>;
  /** Runs every job once now and waits for it (tests, operations). */
  runNow(): Promise<void>;
}

export function startPkiMaintenance(ctx: ServiceContext, options: PkiMaintenanceOptions): PkiMaintenance {
  const pollMs = options.pollMs ?? 5000;
  const debounceMs = options.debounceMs ?? 200;
  const ocspLimit = options.ocspBatchLimit ?? 5000;
  const crlPacing = options.crlPacing ?? 9;
  // performance.now() times: pacing measures elapsed time, not the service clock (which tests move).
  let crlNotBefore = 0;
  let conn: MaintenanceConnection | undefined;
  let stopped = false;
  let running: Promise<void> | null = null;
  let want: { crl: boolean; all: boolean } = { crl: false, all: false };
  let crlTimer: NodeJS.Timeout | undefined;
  let pollTimer: NodeJS.Timeout | undefined;

  async function connection(): Promise<MaintenanceConnection> {
    if (conn && !conn.broken) return conn;
    const reconnect = conn !== undefined;
    await conn?.close();
    conn = undefined;
    const fresh = await openMaintenanceConnection(options.database);
    await fresh.listen('crl_stale', () => request('crl'));
    conn = fresh;
    // Whatever changed while nobody listened is caught by a full run.
    if (reconnect) want.all = true;
    return fresh;
  }

  async function underLock(c: MaintenanceConnection, key: number, job: () => Promise<unknown>): Promise<void> {
    if (!(await c.tryLock(PKI_LOCK_NAMESPACE, key))) return;
    try {
      await job();
    } finally {
      await c.unlock(PKI_LOCK_NAMESPACE, key).catch(() => {});
    }
  }

  async function runOnce(): Promise<void> {
    const all = want.all;
    want = { crl: false, all: false };
    const c = await connection();
    if (all) {
      await reloadResponders(ctx);
      await underLock(c, LOCK.responders, () => renewRespondersIfDue(ctx));
    }
    const wait = crlNotBefore - performance.now();
    if (wait > 0) {
      request('crl', wait);
    } else {
      const started = performance.now();
      let published = 0;
      await underLock(c, LOCK.crl, async () => {
        published = await regenerateStaleCrls(ctx);
      });
      if (published > 0) crlNotBefore = performance.now() + crlPacing * (performance.now() - started);
    }
    if (all) {
      await underLock(c, LOCK.ocsp, async () => {
        const n = await refreshOcspResponses(ctx, { limit: ocspLimit });
        if (n >= ocspLimit) want.all = true; // more due: go on without waiting for the poll
      });
    }
  }

  function drain(): Promise<void> {
    if (running) return running;
    running = (async () => {
      while (!stopped && (want.crl || want.all)) {
        try {
          await runOnce();
        } catch (err) {
          ctx.log.warn({ err }, 'PKI maintenance run failed; retrying at the next poll');
          await conn?.close();
          conn = undefined;
          break;
        }
      }
    })().finally(() => {
      running = null;
    });
    return running;
  }

  function request(kind: 'crl' | 'all', delayMs = debounceMs): void {
    if (stopped) return;
    if (kind === 'all') {
      want.all = true;
      void drain();
      return;
    }
    // Debounce: the first notification of a burst starts the clock; the rest join it.
    if (crlTimer) return;
    crlTimer = setTimeout(() => {
      crlTimer = undefined;
      want.crl = true;
      void drain();
    }, Math.max(delayMs, crlNotBefore - performance.now()));
  }

  function poll(): void {
    pollTimer = setTimeout(() => {
      request('all');
      if (!stopped) poll();
    }, pollMs);
    pollTimer.unref();
  }

  request('all');
  poll();

  return {
    async runNow() {
      crlNotBefore = 0;
      want.all = true;
      await running;
      await drain();
    },
    async stop() {
      stopped = true;
      clearTimeout(crlTimer);
      clearTimeout(pollTimer);
      await running;
      await conn?.close();
      conn = undefined;
    },
  };
}
