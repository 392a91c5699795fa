import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';

const dir = new URL('../../src/domain/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
const ALLOWED_PACKAGES = new Set(['temporal-polyfill', '@holiday-jp/holiday_jp']);

t.test('src/domain imports only its own files and the date libraries', async (t) => {
  t.ok(files.length > 0);
  for (const file of files) {
    const source = readFileSync(new URL(file, dir), 'utf8');
    const specifiers = [...source.matchAll(/\bfrom\s+'([^']+)'|\bimport\s*\(\s*'([^']+)'/g)].map((m) => m[1] ?? m[2]!);
    const foreign = specifiers.filter((s) => !(s.startsWith('./') && !s.includes('/', 2)) && !ALLOWED_PACKAGES.has(s));
    t.same(foreign, [], file);
  }
});

t.test('src/domain never reads the clock or the environment', async (t) => {
  for (const file of files) {
    const source = readFileSync(new URL(file, dir), 'utf8');
    t.notMatch(source, /Date\.now|new Date\b|Temporal\.Now|process\.|Math\.random/, file);
  }
});
