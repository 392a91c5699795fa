/** `npm run bench [-- --quick]`: runs every benchmark, each in its own process, then prints the README table. */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const dir = new URL('.', import.meta.url).pathname;
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const benches = readdirSync(dir).filter((f) => f.endsWith('.ts') && !['run.ts', 'table.ts'].includes(f)).filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)));
let failed = 0;
for (const file of benches) {
  console.log(`\n=== ${file}`);
  const t0 = performance.now();
  const res = spawnSync(process.execPath, ['--import=tsx', `${dir}${file}`, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (res.status !== 0) failed++;
  console.log(`=== ${file}: ${res.status === 0 ? 'done' : `failed (${res.status ?? res.signal})`} in ${Math.round((performance.now() - t0) / 1000)} s`);
}
spawnSync(process.execPath, ['--import=tsx', `${dir}table.ts`], { stdio: 'inherit' });
process.exitCode = failed ? 1 : 0;
