// `npm start`: runs the service from JavaScript made out of src/ and migrations/, so that no
// TypeScript compiler is loaded at run time (tsx's loader thread and per-file compilation cost
// ~2 s of start-up and ~90 MB of RSS; README "Performance").
//
// The JavaScript is made when missing or when any source or the installed dependencies changed:
// esbuild bundles src/server.ts with the migrations and the dependencies into one file,
// dist/<fingerprint>/server.js (no type check — `npm run lint` does that). One module instead of
// ~1,300 (Kysely and TypeBox alone are ~500 files) is most of start-up (README "Performance").
// CommonJS packages that find files next to their own code (the Swagger UI's assets) get their
// own __dirname in the bundle; PGlite (WebAssembly and data files, imported only when
// DATABASE_URL is unset) is left out and loaded from node_modules at run time.
// A build is written to a temporary folder and renamed into place, so processes starting together
// never see half of one; builds of older sources are removed once nothing can be starting from
// them any more and no running service marks them as its own (see IN_USE). `node scripts/start.mjs --build` only builds (the Dockerfile does this at image
// build time); `--dist=<dir>` builds into and runs from <dir> instead of dist/ (bench/startup.ts
// times a build there, leaving dist/ to any service running from it).
// Plain JavaScript on purpose: this file runs before anything could compile TypeScript.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL, URL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const distArg = process.argv.find((a) => a.startsWith('--dist='));
const DIST = distArg ? path.resolve(distArg.slice('--dist='.length)) : path.join(root, 'dist');
const SOURCE_DIRS = ['src', 'migrations'];
// A build older than this, other than the current one, cannot still be loading modules.
const STALE_BUILD_MS = 10 * 60_000;

function typeScriptFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...typeScriptFiles(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(full);
  }
  return files;
}

// Bundled packages come from node_modules: what npm installed is part of the build's input.
const INSTALLED = ['node_modules/.package-lock.json', 'package-lock.json'].map((f) => path.join(root, f));
// Read from node_modules when the service runs (see the top of this file); pg-native is pg's optional native driver.
const EXTERNAL = ['@electric-sql/pglite', 'pg-native'];

/** Names, sizes and modification times of every source, this script, the installed packages and the esbuild version. */
function fingerprint(files, esbuildVersion) {
  // The bundle holds absolute paths into node_modules (dirnamePlugin): a moved tree builds anew.
  const hash = createHash('sha256').update(`${esbuildVersion}\n${root}\n${statSync(fileURLToPath(import.meta.url)).mtimeMs}\n`);
  for (const file of [...files, ...INSTALLED.filter((f) => existsSync(f))]) {
    const s = statSync(file);
    hash.update(`${path.relative(root, file)}\t${s.size}\t${s.mtimeMs}\n`);
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * src/db/bundled-migrations.ts becomes a module that imports every migration, so that the
 * migrator finds them in the bundle instead of importing files from a folder.
 */
function migrationsPlugin(migrations) {
  return {
    name: 'bundled-migrations',
    setup(b) {
      b.onResolve({ filter: /\/bundled-migrations\.js$/ }, () => ({ path: 'bundled-migrations', namespace: 'bundled-migrations' }));
      b.onLoad({ filter: /.*/, namespace: 'bundled-migrations' }, () => ({
        resolveDir: root,
        loader: 'js',
        contents: [
          ...migrations.map((f, i) => `import * as m${i} from ${JSON.stringify(f)};`),
          `export const bundledMigrations = {${migrations.map((f, i) => `${JSON.stringify(path.basename(f, '.ts'))}: m${i}`).join(', ')}};`,
        ].join('\n'),
      }));
    },
  };
}

/** A CommonJS module of a package that uses __dirname or __filename gets them as constants of its own path. */
function dirnamePlugin() {
  return {
    name: 'dirname',
    setup(b) {
      b.onLoad({ filter: /[\\/]node_modules[\\/].*\.c?js$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        if (!/\b__(dirname|filename)\b/.test(source) || /\b(const|let|var)\s+__(dirname|filename)\b/.test(source)) return undefined;
        const constants = `var __dirname = ${JSON.stringify(path.dirname(args.path))}, __filename = ${JSON.stringify(args.path)};`;
        return { contents: `${constants}\n${source}`, loader: 'js', resolveDir: path.dirname(args.path) };
      });
    },
  };
}

async function build() {
  const files = SOURCE_DIRS.flatMap((d) => typeScriptFiles(path.join(root, d))).sort();
  const esbuildVersion = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('esbuild/package.json'), 'utf8')).version;
  const id = fingerprint(files, esbuildVersion);
  const out = path.join(DIST, id);
  if (existsSync(out)) return out;
  const esbuild = await import('esbuild');
  const tmp = path.join(DIST, `.tmp-${process.pid}-${id}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await esbuild.build({
    entryPoints: { server: path.join(root, 'src', 'server.ts') },
    outdir: tmp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    // The CommonJS packages in the bundle (Fastify, pg, pino…) call require() for Node's modules.
    banner: { js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);" },
    plugins: [dirnamePlugin(), migrationsPlugin(files.filter((f) => f.startsWith(path.join(root, 'migrations') + path.sep)))],
    // Less text for V8 to read and compile at every start (~0.1 s of CPU here); names are kept, so
    // stack traces still say which function. `node --enable-source-maps` maps them to the sources.
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: true,
    logLevel: 'warning',
  });
  // esbuild's helper process would otherwise stay for the life of the service.
  await esbuild.stop();
  try {
    renameSync(tmp, out);
  } catch (error) {
    // Another process finished the same build first: use that one.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(out)) throw error;
  }
  for (const entry of readdirSync(DIST)) {
    const full = path.join(DIST, entry);
    if (entry !== id && Date.now() - statSync(full).mtimeMs > STALE_BUILD_MS && !inUse(full)) rmSync(full, { recursive: true, force: true });
  }
  return out;
}

// A service running from a build marks it (.in-use-<pid>): with WORKERS > 1 its primary forks
// replacement workers from those files for as long as it runs, so a later build in the same tree
// must leave them alone while the marker names a live process.
const IN_USE = '.in-use-';

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function inUse(dir) {
  try {
    return readdirSync(dir).some((name) => name.startsWith(IN_USE) && alive(Number(name.slice(IN_USE.length))));
  } catch {
    return false;
  }
}

const out = await build();
if (!process.argv.includes('--build')) {
  const marker = path.join(out, `${IN_USE}${process.pid}`);
  try {
    writeFileSync(marker, '');
    process.on('exit', () => rmSync(marker, { force: true }));
  } catch {
    // A read-only image (built once with --build): nothing there removes builds anyway.
  }
  await import(pathToFileURL(path.join(out, 'server.js')).href);
}
