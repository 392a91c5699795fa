// A dedicated connection for background work: LISTEN for notifications and
// hold session advisory locks (pg_try_advisory_lock) so that, among several
// service processes on one database, only one runs a given job at a time. It
// is not taken from the pool, so it never competes with requests. If the
// connection drops its locks drop with it (the server releases them), and
// another process takes over on its next attempt.
import pg from 'pg';
import type { DbHandle } from './connection.js';

export interface MaintenanceConnection {
  listen(channel: string, onNotify: (payload: string) => void): Promise<void>;
  /** Session advisory lock (namespace, key); false when another session holds it. */
  tryLock(namespace: number, key: number): Promise<boolean>;
  unlock(namespace: number, key: number): Promise<void>;
  /** True once the connection failed; open a new one. */
  readonly broken: boolean;
  close(): Promise<void>;
}

export async function openMaintenanceConnection(handle: DbHandle): Promise<MaintenanceConnection> {
  if (handle.driver === 'pglite' && handle.pglite) {
    // One process owns a PGlite data directory: there is nobody to exclude.
    const pglite = handle.pglite;
    const unlisteners: (() => Promise<void>)[] = [];
    return {
      async listen(channel, onNotify) {
        unlisteners.push(await pglite.listen(channel, onNotify));
      },
      tryLock: async () => true,
      unlock: async () => {},
      broken: false,
      async close() {
        for (const u of unlisteners.splice(0)) await u().catch(() => {});
      },
    };
  }
  if (!handle.pool) throw new Error('no PostgreSQL pool to take connection settings from');
  const { connectionString, host, port, user, password, database, ssl } = handle.pool.options;
  const client = new pg.Client({ connectionString, host, port, user, password, database, ssl, application_name: 'jpki-ward maintenance' } as pg.ClientConfig);
  let broken = false;
  const listeners = new Map<string, (payload: string) => void>();
  client.on('error', () => {
    broken = true;
  });
  client.on('end', () => {
    broken = true;
  });
  client.on('notification', (n) => {
    listeners.get(n.channel)?.(n.payload ?? '');
  });
  await client.connect();
  return {
    async listen(channel, onNotify) {
      if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`bad channel name ${channel}`);
      listeners.set(channel, onNotify);
      await client.query(`LISTEN ${channel}`);
    },
    async tryLock(namespace, key) {
      const r = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::int4, $2::int4) AS locked', [namespace, key]);
      return r.rows[0]?.locked === true;
    },
    async unlock(namespace, key) {
      await client.query('SELECT pg_advisory_unlock($1::int4, $2::int4)', [namespace, key]);
    },
    get broken() {
      return broken;
    },
    async close() {
      broken = true;
      await client.end().catch(() => {});
    },
  };
}
