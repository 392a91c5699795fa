import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Batch bodies are spooled to a directory named after the process that owns it, so that one left
// behind by a process that died (SIGKILL, power loss) can be told from one a live process, maybe
// another replica on the same machine, is still reading.
const PREFIX = 'jpki-batch-';

export function makeSpoolDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `${PREFIX}${process.pid}-`));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the spool directories of processes that no longer run; returns how many. */
export async function sweepOrphanedSpoolDirs(dir = tmpdir()): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = Number(/^jpki-batch-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    await rm(path.join(dir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
