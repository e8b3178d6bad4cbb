/**
 * bench:cli — start-up of the `openevents` command: wall time and peak RSS of `openevents --version`
 * and of `openevents status --json` on a small lake, compiled (dist/, what users run) vs the tsx
 * path the toolkit used before it was compiled (node bin/run-ts.js src/cli/main.ts), side by side,
 * medians of --runs runs each, interleaved so that load from other processes falls on both alike.
 * Target for the compiled --version: under 150 ms and under 70 MB.
 *
 * Then the choice of compiler: esbuild (npm run build) vs tsc emitting the same tree — build time,
 * output size, and the start-up of each output.
 *
 * Usage: npm run bench:cli [-- --runs 15 --no-compilers]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build, copyAssets } from '../scripts/build.mjs';
import { createGenerator } from '../src/source/generator.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '15' }, 'no-compilers': { type: 'boolean', default: false } } });
const RUNS = Number(args.runs);
const TARGET_MS = 150;
const TARGET_MB = 70;

// The child reports its own CPU time and peak RSS when it exits (getrusage), on a line of its own.
const USAGE_HOOK = `data:text/javascript,${encodeURIComponent(
  "import { writeSync } from 'node:fs'; process.on('exit', () => { const u = process.resourceUsage(); writeSync(2, '\\nusage=' + (u.userCPUTime + u.systemCPUTime) + ',' + u.maxRSS + '\\n'); });",
)}`;

interface Sample {
  /** Wall time from spawn to exit. */
  ms: number;
  /** CPU time (user + system): what start-up costs, and steadier than wall time on a busy machine. */
  cpuMs: number;
  /** Peak resident memory. */
  mb: number;
}

/** Runs `node <argv>` once for its wall time, then once more with the hook for CPU time and peak RSS. */
async function sample(argv: string[], cwd: string): Promise<Sample> {
  const started = performance.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`node ${argv.join(' ')} exited ${code}`);
  const measured = spawnSync(process.execPath, ['--import', USAGE_HOOK, ...argv], { cwd, encoding: 'utf8' });
  const [, cpuUs, kb] = /^usage=(\d+),(\d+)$/m.exec(measured.stderr) ?? [];
  return { ms, cpuMs: Number(cpuUs) / 1000, mb: Number(kb) / 1024 };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Medians over RUNS interleaved runs of each command (after one warm-up run each: caches, page cache). */
async function compare(commands: Record<string, string[]>, cwd: string): Promise<Record<string, Sample>> {
  const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (const argv of Object.values(commands)) await sample(argv, cwd);
  for (let i = 0; i < RUNS; i += 1) {
    for (const [name, argv] of Object.entries(commands)) samples[name]!.push(await sample(argv, cwd));
  }
  return Object.fromEntries(
    Object.entries(samples).map(([k, xs]) => [k, { ms: median(xs.map((x) => x.ms)), cpuMs: median(xs.map((x) => x.cpuMs)), mb: median(xs.map((x) => x.mb)) }]),
  );
}

const fmt = (s: Sample): string => `${Math.round(s.ms).toString().padStart(5)} ms ${Math.round(s.cpuMs).toString().padStart(5)} ms ${s.mb.toFixed(0).padStart(4)} MB`;
const ratio = (a: Sample, b: Sample): string => `${(b.cpuMs / a.cpuMs).toFixed(1)}× CPU, ${(b.mb / a.mb).toFixed(1)}× memory`;
const W = 27;
const header = (left: string, right: string): string => `${''.padEnd(16)}${left.padStart(W)}${right.padStart(W)}`;
const UNITS = `${'wall'.padStart(8)}${'CPU'.padStart(9)}${'peak'.padStart(8)}`;
const units = header(UNITS, UNITS);

const work = mkdtempSync(path.join(os.tmpdir(), 'openevents-bench-cli-'));
try {
  await build();
  const compiled = path.join(ROOT, 'dist/cli/main.js');
  const tsx = [path.join(ROOT, 'bin/run-ts.js'), path.join(ROOT, 'src/cli/main.ts')];

  // A small lake: 2,000 generated events over 6 hours, imported and processed by the command itself.
  const lake = path.join(work, 'lake');
  const capture = path.join(work, 'events.ndjson');
  const hours = 6;
  const start = Date.now() - hours * 3_600_000;
  writeFileSync(capture, [...createGenerator({ count: 2000, startMs: start, spanMs: hours * 3_600_000 - 1 })].map((g) => g.line).join('\n') + '\n');
  for (const step of [
    ['lake', 'import', capture, '--lake', lake, '--partition-by', 'mtime'],
    ['etl', '--lake', lake, '--all'],
  ]) {
    const run = spawnSync(process.execPath, [compiled, ...step], { cwd: work, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`openevents ${step.join(' ')}: ${run.stderr}`);
  }

  console.log(`openevents start-up, medians of ${RUNS} runs (node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)})`);
  console.log(`small lake: 2,000 events over ${hours} hours, processed\n`);
  console.log(`${header('compiled (dist/)', 'tsx (src/)')}   tsx / compiled`);
  console.log(units);
  const results: Record<string, Sample> = {};
  for (const [name, argv] of Object.entries({ '--version': ['--version'], 'status --json': ['status', '--json', '--lake', lake] })) {
    const r = await compare({ compiled: [compiled, ...argv], tsx: [...tsx, ...argv] }, work);
    results[name] = r.compiled!;
    console.log(`${name.padEnd(16)}${fmt(r.compiled!).padStart(W)}${fmt(r.tsx!).padStart(W)}   ${ratio(r.compiled!, r.tsx!)}`);
  }
  const version = results['--version']!;
  const bare = (await compare({ node: ['-e', '0'] }, work)).node!;
  console.log(`${'node -e 0'.padEnd(16)}${fmt(bare).padStart(W)}   (node itself, for scale)`);
  const met = version.ms < TARGET_MS && version.mb < TARGET_MB;
  console.log(`\ntarget for the compiled --version: < ${TARGET_MS} ms and < ${TARGET_MB} MB wall → ${met ? 'met' : 'NOT met'}`);
  if (!met && os.loadavg()[0]! > os.cpus().length) console.log('(the machine is busy: wall times include waiting for a core; CPU time is the cost)');

  if (!args['no-compilers']) await compilers(lake);
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** esbuild vs tsc: build time, output, start-up of each output. */
async function compilers(lake: string): Promise<void> {
  const out = path.join(ROOT, 'dist-tsc'); // beside dist/: the same ../../ paths to package.json and reports/
  const config = path.join(ROOT, 'tsconfig.bench-tsc.json');
  try {
    writeFileSync(
      config,
      JSON.stringify({
        extends: './tsconfig.json',
        compilerOptions: { noEmit: false, outDir: out, rootDir: 'src', sourceMap: true, rewriteRelativeImportExtensions: true },
        include: ['src'],
      }),
    );
    const esbuildMs: number[] = [];
    const tscMs: number[] = [];
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    for (let i = 0; i < 3; i += 1) {
      let t = performance.now();
      await build();
      esbuildMs.push(performance.now() - t);
      rmSync(out, { recursive: true, force: true });
      t = performance.now();
      const run = spawnSync(process.execPath, [tsc, '-p', config], { cwd: ROOT, encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`tsc: ${run.stdout}${run.stderr}`);
      copyAssets(out);
      tscMs.push(performance.now() - t);
    }
    const size = (dir: string, ext: string): number =>
      readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((d) => d.isFile() && d.name.endsWith(ext))
        .reduce((n, d) => n + statSync(path.join(d.parentPath, d.name)).size, 0);
    const kb = (n: number): string => `${Math.round(n / 1024)} KB`;
    console.log(`\ncompilers (medians of 3 builds; tsc also type-checks, esbuild does not — npm test runs tsc --noEmit)`);
    console.log(header('esbuild', 'tsc'));
    console.log(`${'build (wall)'.padEnd(16)}${`${Math.round(median(esbuildMs))} ms`.padStart(W)}${`${Math.round(median(tscMs))} ms`.padStart(W)}`);
    const dist = path.join(ROOT, 'dist');
    console.log(`${'.js output'.padEnd(16)}${kb(size(dist, '.js')).padStart(W)}${kb(size(out, '.js')).padStart(W)}`);
    console.log(`${'.js.map output'.padEnd(16)}${kb(size(dist, '.js.map')).padStart(W)}${kb(size(out, '.js.map')).padStart(W)}`);
    console.log(units);
    for (const [name, argv] of Object.entries({ '--version': ['--version'], 'status --json': ['status', '--json', '--lake', lake] })) {
      const r = await compare({ esbuild: [path.join(dist, 'cli/main.js'), ...argv], tsc: [path.join(out, 'cli/main.js'), ...argv] }, ROOT);
      console.log(`${name.padEnd(16)}${fmt(r.esbuild!).padStart(W)}${fmt(r.tsc!).padStart(W)}`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
    rmSync(config, { force: true });
  }
}
