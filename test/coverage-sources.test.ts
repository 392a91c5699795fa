import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import t from 'tap';
import { TSX_NODE_ARGS } from './support/service-process.js';

/**
 * The coverage report reads each src/ file's text from the source map tsx inlines; tsx leaves it
 * out (null), which made every file one covered line. test/support/source-maps.mjs puts it back.
 */
const root = new URL('..', import.meta.url).pathname;
const file = `${root}src/domain/fees.ts`;
const probe = `
  import { findSourceMap } from 'node:module';
  await import(${JSON.stringify(file)});
  console.log(JSON.stringify(findSourceMap(${JSON.stringify(`file://${file}`)})?.payload.sourcesContent ?? null));
`;

const sourcesContent = async (args: string[]) => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--enable-source-maps', ...args, '--input-type=module', '-e', probe], { cwd: root });
  return JSON.parse(stdout) as (string | null)[] | null;
};

t.test('with the hook, the source map of a src/ file carries its text', async (t) => {
  t.same(await sourcesContent(TSX_NODE_ARGS), [readFileSync(file, 'utf8')]);
});

t.test('tsx alone leaves it out (what the hook is for)', async (t) => {
  t.same(await sourcesContent(['--import=tsx']), [null]);
});
