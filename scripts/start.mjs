// `npm start`: runs the service from JavaScript made out of src/ and migrations/, so that no
// TypeScript compiler is loaded at run time (tsx's loader thread and per-file compilation cost
// ~2 s of start-up and ~90 MB of RSS; README "Performance").
//
// The JavaScript is made when missing or when any source changed: esbuild transpiles each file
// (no bundling, no type check — `npm run lint` does that) into dist/<fingerprint>/, keeping the
// layout, so relative paths such as the migrations folder still hold. A build is written to a
// temporary folder and renamed into place, so processes starting together never see half of one;
// builds of older sources are removed once nothing can be starting from them any more.
// `node scripts/start.mjs --build` only builds (the Dockerfile does this at image build time).
// Plain JavaScript on purpose: this file runs before anything could compile TypeScript.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL, URL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.join(root, 'dist');
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

/** Names, sizes and modification times of every source, this script and the esbuild version. */
function fingerprint(files, esbuildVersion) {
  const hash = createHash('sha256').update(`${esbuildVersion}\n${statSync(fileURLToPath(import.meta.url)).mtimeMs}\n`);
  for (const file of files) {
    const s = statSync(file);
    hash.update(`${path.relative(root, file)}\t${s.size}\t${s.mtimeMs}\n`);
  }
  return hash.digest('hex').slice(0, 16);
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
    entryPoints: files,
    outdir: tmp,
    outbase: root,
    platform: 'node',
    format: 'esm',
    target: 'node20',
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
    if (entry !== id && Date.now() - statSync(full).mtimeMs > STALE_BUILD_MS) rmSync(full, { recursive: true, force: true });
  }
  return out;
}

const out = await build();
if (!process.argv.includes('--build')) await import(pathToFileURL(path.join(out, 'src', 'server.js')).href);
