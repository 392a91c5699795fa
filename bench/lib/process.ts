// What the benchmarks read off the processes they start, and how they start and stop talking to them.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** A memory figure of /proc/<pid>/status in kB: VmRSS (resident now) or VmHWM (its peak); 0 once the process is gone. */
function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
    return Number(line?.replace(/\D+/g, '') ?? 0);
  } catch {
    return 0;
  }
}

/** Resident set size in MB (/proc/<pid>/status); 0 once the process is gone. */
export function rssMb(pid: number): number {
  return Math.round(statusKb(pid, 'VmRSS') / 1024);
}

/**
 * Resident set size in MB of a process and its live children, summed (a WORKERS > 1 service: the
 * primary and its workers); `peak` sums each one's own peak (VmHWM), an upper bound of the peak of
 * the sum. Pages the processes share are counted in each.
 */
export function treeRssMb(pid: number, opts: { peak?: boolean } = {}): number {
  const field = opts.peak ? 'VmHWM' : 'VmRSS';
  return Math.round([pid, ...childPids(pid)].reduce((kb, p) => kb + statusKb(p, field), 0) / 1024);
}

/** The fields of /proc/<pid>/stat after the command name (field 3, the state, is [0]). */
function statFields(pid: number | string): string[] {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
}

/** The live processes whose parent is `pid`. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(statFields(entry)[1]) === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/** CPU time (user + system, all threads) a process has used so far, in ms (/proc/<pid>/stat, clock ticks of 10 ms); 0 once it is gone. */
export function cpuMs(pid: number): number {
  try {
    const fields = statFields(pid);
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/**
 * CPU time of a process and its children so far, in ms: its own, its reaped children's (cutime +
 * cstime) and its live children's. For PostgreSQL (the postmaster's pid: `postmasterPid`), whose
 * backends come and go with connections.
 */
export function treeCpuMs(pid: number): number {
  try {
    const own = statFields(pid);
    const ownAndReapedMs = (Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14])) * 10;
    return childPids(pid).reduce((ms, child) => ms + cpuMs(child), ownAndReapedMs);
  } catch {
    return 0;
  }
}

/** The postmaster of a server started by test/support/postgres-server.ts (`postmaster.pid` in its directory). */
export function postmasterPid(dataDir: string): number {
  return Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** Polls `url` every 100 ms until it answers 2xx; gives up after `timeoutMs`. */
export async function waitReady(url: string, timeoutMs = 120_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(3000) })).ok) return;
    } catch {
      // not yet
    }
    if (performance.now() > end) throw new Error(`not ready: ${url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM and wait for the exit; `group` signals the whole process group the child leads. */
export async function stop(child: ChildProcess, opts: { group?: boolean } = {}): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  if (opts.group && child.pid) process.kill(-child.pid, 'SIGTERM');
  else child.kill('SIGTERM');
  await exited;
}

/** `openssl speed -seconds S rsa2048`: RSA-2048 signs per second on one core (the "sign/s" column). */
export function opensslSignsPerSecond(seconds: number): number {
  const out = execFileSync('openssl', ['speed', '-seconds', String(seconds), 'rsa2048'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  // "rsa 2048 bits 0.000254s 0.000007s   3937.0 140845.1" (sign, verify, sign/s, verify/s)
  const m = /rsa\s+2048 bits\s+\S+\s+\S+\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`cannot read openssl speed output:\n${out}`);
  return Number(m[1]);
}
