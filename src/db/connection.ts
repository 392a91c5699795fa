import { mkdirSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

// Both drivers must agree on types: civil dates stay 'YYYY-MM-DD', int8 stays a string (no float rounding).
const DATE_OID = 1082;
const INT8_OID = 20;
pg.types.setTypeParser(DATE_OID, (s) => s);
pg.types.setTypeParser(INT8_OID, (s) => s);

/** pg's error for a query that got no answer within query_timeout. */
const QUERY_READ_TIMEOUT = 'Query read timeout';

/**
 * How long the client waits for a query's answer before giving up on it: a little longer than the
 * server's statement_timeout, so that a server that answers is always the one that stops a slow
 * statement, and this one only catches a server that does not answer at all (its processes stopped,
 * the network gone), which statement_timeout cannot.
 */
export function queryTimeoutMs(statementTimeoutMs: number): number {
  return statementTimeoutMs + Math.max(1000, Math.round(statementTimeoutMs / 5));
}

/**
 * A server that drops a connection can make a client emit 'error' after its caller already got the
 * failure (e.g. ECONNRESET after a refused start-up). Unhandled, that would crash the process; the
 * query that meets the broken connection reports it instead, and the pool replaces the client.
 *
 * A query that times out on the client (query_timeout) leaves its connection in an unknown state (the
 * server may still run it, or answer it later): the connection is closed, so the pool drops it and the
 * queries queued on it fail at once ('Connection terminated') instead of waiting their turn. A
 * transaction that lifted its statement_timeout (`SET LOCAL statement_timeout = '300s'`,
 * repositories/pki.ts allowLongStatements) gets the same lift on the client until it ends.
 */
class QuietClient extends pg.Client {
  /** Client-side timeout of the open transaction's queries, when it lifted statement_timeout. */
  private liftedQueryTimeoutMs: number | undefined;

  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', () => {});
    const query = this.query.bind(this) as (config: unknown, values?: unknown, callback?: unknown) => unknown;
    const closeOnTimeout = (error: unknown) => {
      if ((error as Error | undefined)?.message === QUERY_READ_TIMEOUT) void this.end().catch(() => {});
    };
    this.query = ((config: unknown, values?: unknown, callback?: unknown) => {
      if (typeof config === 'string') this.noteTransactionSettings(config);
      // Kysely sends text and values; a text registered by preparedStatement() goes as a named
      // statement instead, which PostgreSQL parses and plans once per connection.
      const name = typeof config === 'string' && Array.isArray(values) && callback === undefined ? preparedNames.get(config) : undefined;
      const lifted = this.liftedQueryTimeoutMs;
      if (typeof config === 'string' && callback === undefined && typeof values !== 'function' && (name || lifted)) {
        config = { text: config, values, ...(name ? { name } : {}), ...(lifted ? { query_timeout: lifted } : {}) };
        values = undefined;
      }
      if (typeof values === 'function' || typeof callback === 'function') {
        const done = (typeof callback === 'function' ? callback : values) as (error: unknown, result: unknown) => void;
        const watched = (error: unknown, result: unknown) => {
          closeOnTimeout(error);
          done(error, result);
        };
        return typeof callback === 'function' ? query(config, values, watched) : query(config, watched);
      }
      const result = query(config, values);
      if (result instanceof Promise) result.catch(closeOnTimeout);
      return result;
    }) as typeof this.query;
  }

  private noteTransactionSettings(text: string): void {
    const lift = /^\s*SET\s+LOCAL\s+statement_timeout\s*=\s*'(\d+)s'\s*$/i.exec(text);
    if (lift) this.liftedQueryTimeoutMs = queryTimeoutMs(Number(lift[1]) * 1000);
    else if (/^\s*(commit|rollback)\b/i.test(text)) this.liftedQueryTimeoutMs = undefined;
  }
}

const preparedNames = new Map<string, string>();

/**
 * Runs this SQL text as a named prepared statement on PostgreSQL (on PGlite it stays a plain
 * query). For fixed hot-path queries only: each connection keeps every statement it has prepared.
 */
export function preparedStatement(sqlText: string): void {
  if (!preparedNames.has(sqlText)) preparedNames.set(sqlText, `jpki_ward_${preparedNames.size + 1}`);
}

export interface DbOptions {
  /** postgres://… uses PostgreSQL through pg; undefined uses PGlite. */
  databaseUrl: string | undefined;
  /** PGlite data directory; 'memory://' keeps it in memory. */
  dataDir: string;
  poolMax: number;
  statementTimeoutMs: number;
  /** PGlite only: a dump made by dumpDataDir(), to skip initdb (tests). */
  loadDataDir?: Blob;
}

export interface DbHandle {
  db: Kysely<Database>;
  driver: 'postgres' | 'pglite';
  pool?: pg.Pool;
  pglite?: PGlite;
  close(): Promise<void>;
}

/**
 * PostgreSQL settings for PGlite, on top of its own start parameters. shared_buffers: initdb sets
 * 128 MB, all of it zeroed at every start and so resident; 16 MB holds this service's working set at
 * the scale PGlite is for (development and small set-ups: production runs on PostgreSQL), and takes
 * ~120 MB off the idle RSS and ~0.3 s of CPU off each start (README "Performance").
 */
export const PGLITE_SETTINGS = ['shared_buffers=16MB'];

export async function openDatabase(options: DbOptions): Promise<DbHandle> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      Client: QuietClient,
      connectionString: options.databaseUrl,
      max: options.poolMax,
      statement_timeout: options.statementTimeoutMs,
      query_timeout: queryTimeoutMs(options.statementTimeoutMs),
      connectionTimeoutMillis: options.statementTimeoutMs,
    });
    // An idle client losing its server must not crash the process; the next query reports it.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, driver: 'postgres', pool, close: () => db.destroy() };
  }
  const dataDir = options.dataDir;
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  // Loaded only here: PGlite (WebAssembly PostgreSQL) is the default set-up, and a service on
  // PostgreSQL need not load it.
  const [{ PGlite: PGliteClass, types: pgliteTypes }, { PGliteDialect }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('kysely-pglite-dialect'),
  ]);
  const pglite = await PGliteClass.create(dataDir, {
    parsers: { [pgliteTypes.DATE]: (s: string) => s, [pgliteTypes.INT8]: (s: string) => s },
    startParams: [...PGliteClass.defaultStartParams, ...PGLITE_SETTINGS.flatMap((setting) => ['-c', setting])],
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return { db, driver: 'pglite', pglite, close: () => db.destroy() };
}
