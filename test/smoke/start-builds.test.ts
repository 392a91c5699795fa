import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';

const root = new URL('../..', import.meta.url).pathname;

t.test('a build does not remove an old build a live service runs from (its workers are forked from it)', async (t) => {
  const dist = mkdtempSync(path.join(tmpdir(), 'jpki-start-builds-'));
  t.teardown(() => rmSync(dist, { recursive: true, force: true }));
  const old = new Date(Date.now() - 3600_000);
  const make = (name: string, marker?: number) => {
    const dir = path.join(dist, name);
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'server.js'), '');
    if (marker !== undefined) writeFileSync(path.join(dir, `.in-use-${marker}`), '');
    utimesSync(dir, old, old);
    return dir;
  };
  const running = make('0000000000000001', process.pid);
  // A pid that is not running: the highest possible on Linux is 4194304.
  const abandoned = make('0000000000000002', 4_194_304);
  const unmarked = make('0000000000000003');
  await promisify(execFile)(process.execPath, ['scripts/start.mjs', '--build', `--dist=${dist}`], { cwd: root });
  t.ok(existsSync(running), 'kept: a live process marks it');
  t.notOk(existsSync(abandoned), 'removed: its marker names a process that is gone');
  t.notOk(existsSync(unmarked), 'removed: old and unmarked');
});
