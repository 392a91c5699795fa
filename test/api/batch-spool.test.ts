import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { testApp } from '../support/app.js';

t.test('at start, batch spool directories of dead processes are removed; a live process keeps its own', async (t) => {
  const dead = spawnSync('true').pid!;
  const orphan = path.join(tmpdir(), `jpki-batch-${dead}-spooltest`);
  const mine = path.join(tmpdir(), `jpki-batch-${process.pid}-spooltest`);
  for (const dir of [orphan, mine]) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'body.ndjson'), '{"eventId":"left-behind"}\n');
  }
  t.teardown(() => rmSync(mine, { recursive: true, force: true }));
  // Another test process starting at the same time may be the one that sweeps: the log is not checked.
  await testApp(t);
  t.notOk(existsSync(orphan), 'the dead process’s spool is gone');
  t.ok(existsSync(mine), 'a live process’s spool stays');
});
