#!/usr/bin/env node
/**
 * Compiles src/ to dist/: every .ts/.tsx file becomes one .js file with a source map at the same
 * relative path, and every other file under src/ (SQL, JSON, stop-word lists, …) is copied next to
 * it, so code that finds its assets with `import.meta.dirname` finds them in dist/ as in src/.
 * Nothing is listed by hand: a new file under src/ is picked up by the next build.
 *
 *   node scripts/build.mjs             build
 *   node scripts/build.mjs --if-stale  build only when src/ (or this build's inputs) changed
 *   add --quiet to print nothing when there is nothing to say
 *
 * esbuild, not tsc (npm run bench:cli measures both; figures in the README): it transpiles each
 * file on its own (the tsconfig has isolatedModules, so nothing is lost) in a fraction of a second,
 * which lets every test run and `npm run demo` rebuild when stale without anyone noticing; type
 * checking stays with `tsc --noEmit` in `npm test`.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src');
const DIST = path.join(ROOT, 'dist');
const STAMP = '.build-stamp';
/** Besides src/, what changes the output. */
const INPUTS = ['scripts/build.mjs', 'tsconfig.json', 'package-lock.json'];
/** The command's entry point: executable, as npm makes `bin` files on install. */
const ENTRY = 'cli/main.js';
const isSource = (file) => /\.tsx?$/.test(file) && !file.endsWith('.d.ts');

/** Every file under src/, relative to it, sorted. */
export function sourceFiles() {
  return readdirSync(SRC, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(SRC, path.join(d.parentPath, d.name)))
    .sort();
}

/** A fingerprint of the build's inputs: names, sizes and modification times. */
function fingerprint(files) {
  const hash = createHash('sha256');
  for (const rel of [...files.map((f) => path.join('src', f)), ...INPUTS]) {
    const full = path.join(ROOT, rel);
    const st = existsSync(full) ? statSync(full) : undefined;
    hash.update(`${rel}\0${st?.size ?? -1}\0${st?.mtimeMs ?? -1}\n`);
  }
  return hash.digest('hex');
}

/** True when dist/ is missing or was built from other inputs than the current ones. */
export function isStale(files = sourceFiles()) {
  try {
    return readFileSync(path.join(DIST, STAMP), 'utf8').trim() !== fingerprint(files);
  } catch {
    return true;
  }
}

/**
 * esbuild compiles one file per entry; relative imports stay imports, with `.ts`/`.tsx` rewritten
 * to `.js`. JSON imported with `with { type: 'json' }` is inlined (esbuild would drop the attribute
 * on an external import, and Node refuses JSON without it).
 */
const relativeImports = {
  name: 'relative-imports',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind === 'entry-point' || args.path.endsWith('.json')) return undefined;
      return { path: args.path.replace(/\.tsx?$/, '.js'), external: true };
    });
  },
};

/** Copies every file under src/ that is not TypeScript to the same relative path under `out`. */
export function copyAssets(out, files = sourceFiles()) {
  for (const rel of files.filter((f) => !isSource(f))) {
    mkdirSync(path.dirname(path.join(out, rel)), { recursive: true });
    copyFileSync(path.join(SRC, rel), path.join(out, rel));
  }
}

/** Builds dist/ from scratch (into a temporary folder, then swapped in). */
export async function build() {
  const { build: esbuild } = await import('esbuild');
  const files = sourceFiles();
  const stamp = fingerprint(files);
  const out = `${DIST}.tmp-${process.pid}`;
  rmSync(out, { recursive: true, force: true });
  await esbuild({
    absWorkingDir: ROOT,
    entryPoints: files.filter(isSource).map((f) => path.join('src', f)),
    outdir: out,
    outbase: 'src',
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    tsconfig: path.join(ROOT, 'tsconfig.json'),
    sourcemap: true,
    // Stack traces need the mappings only; the .ts text would double the package.
    sourcesContent: false,
    logLevel: 'warning',
    plugins: [relativeImports],
  });
  copyAssets(out, files);
  chmodSync(path.join(out, ENTRY), 0o755);
  writeFileSync(path.join(out, STAMP), stamp + '\n');
  const old = `${DIST}.old-${process.pid}`;
  try {
    renameSync(DIST, old);
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
  }
  try {
    renameSync(out, DIST);
  } catch (error) {
    // Another build of the same inputs swapped its output in first: keep that one.
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    rmSync(out, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
  return files.length;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const quiet = args.includes('--quiet');
  if (args.includes('--if-stale') && !isStale()) {
    if (!quiet) console.log('build: dist/ is up to date');
  } else {
    const started = performance.now();
    const count = await build();
    console.log(`build: ${count} files from src/ → dist/ in ${Math.round(performance.now() - started)} ms`);
  }
}
