import type { Kysely, Transaction } from 'kysely';
import type { BaseLogger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Database } from '../db/schema.js';
import type { CaRegistry } from './certificate-authority.js';

/** What every use case needs; built once by app.ts. */
export interface ServiceContext {
  db: Kysely<Database>;
  clock: Clock;
  config: Config;
  log: Pick<BaseLogger, 'info' | 'warn' | 'error' | 'debug'>;
  /** The two CAs, keys decrypted in memory; loaded by app.ts after migrations. */
  cas: CaRegistry;
}

const INSTANCE = Symbol('service instance');

/**
 * The service instance a context belongs to: a request's context (forRequest) answers its
 * instance's, so per-instance state (caches, the invalidation bus) is keyed by this, never by a
 * request's context.
 */
export function serviceInstance(ctx: ServiceContext): ServiceContext {
  return (ctx as ServiceContext & { [INSTANCE]?: ServiceContext })[INSTANCE] ?? ctx;
}

/**
 * The context of one request: the same services, logging through the request's child logger, so
 * every line a use case logs for the request carries its request id (reqId).
 */
export function forRequest(ctx: ServiceContext, log: ServiceContext['log']): ServiceContext {
  const instance = serviceInstance(ctx);
  return { ...instance, log, [INSTANCE]: instance } as ServiceContext;
}

/** Who asks, for the audit log. */
export interface Actor {
  keyId: string | null;
  requestId: string;
}

export type Tx = Transaction<Database>;

/** The only way services open a transaction: one use case, one transaction. */
export function inTransaction<T>(ctx: ServiceContext, work: (trx: Tx) => Promise<T>): Promise<T> {
  return ctx.db.transaction().execute(work);
}

// Failures a fresh attempt gets past: deadlock, serialization failure, and a key (an event id, a
// registration) recorded by a concurrent transaction first, which the retry then reads and answers
// as a replay.
const RETRYABLE = new Set(['40P01', '40001', '23505']);
const MAX_RETRIES = 5;

/**
 * inTransaction, run again after a short random pause when it failed for one of the reasons above
 * (its work must decide everything from what it reads inside the transaction).
 */
export async function inRetriedTransaction<T>(ctx: ServiceContext, work: (trx: Tx) => Promise<T>): Promise<T> {
  for (let retries = 0; ; retries++) {
    try {
      return await inTransaction(ctx, work);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'string' || !RETRYABLE.has(code) || retries >= MAX_RETRIES) throw error;
      // Seen by operators (a deadlock retried here still points at two use cases locking in different orders).
      ctx.log.warn({ code, retry: retries + 1 }, 'transaction retried');
      await new Promise((r) => setTimeout(r, 20 * (retries + 1) + Math.floor(Math.random() * 50)));
    }
  }
}
