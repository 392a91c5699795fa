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
