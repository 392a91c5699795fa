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

/**
 * A server that drops a connection can make a client emit 'error' after its caller already got the
 * failure (e.g. ECONNRESET after a refused start-up). Unhandled, that would crash the process; the
 * query that meets the broken connection reports it instead, and the pool replaces the client.
 */
class QuietClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', () => {});
    // Kysely sends text and values; a text registered by preparedStatement() goes as a named
    // statement instead, which PostgreSQL parses and plans once per connection.
    const query = this.query.bind(this) as (config: unknown, values?: unknown, callback?: unknown) => unknown;
    this.query = ((config: unknown, values?: unknown, callback?: unknown) => {
      const name = typeof config === 'string' && Array.isArray(values) && callback === undefined ? preparedNames.get(config) : undefined;
      return name ? query({ name, text: config, values }) : query(config, values, callback);
    }) as typeof this.query;
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

export async function openDatabase(options: DbOptions): Promise<DbHandle> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      Client: QuietClient,
      connectionString: options.databaseUrl,
      max: options.poolMax,
      statement_timeout: options.statementTimeoutMs,
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
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return { db, driver: 'pglite', pglite, close: () => db.destroy() };
}
