import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentError } from '../../src/errors.ts';
import { runQuery } from '../../src/etl/query.ts';
import { runEtl } from '../../src/etl/run.ts';
import { importFiles } from '../../src/lake/import.ts';
import { manifestKey } from '../../src/lake/layout.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { runCli, OPENEVENTS } from '../helpers/cli.ts';
import { CAPTURE } from '../helpers/fixtures.ts';

/**
 * Faults of the environment, made real where the machine allows: a small tmpfs fills up (ENOSPC)
 * and is remounted read-only (EROFS) when this process may mount; permissions are withdrawn by
 * running the CLI as `nobody` when root (root ignores file modes), by chmod otherwise.
 */
const base = mkdtempSync(path.join(os.tmpdir(), 'oe-faults-'));
chmodSync(base, 0o755);
afterAll(() => rmSync(base, { recursive: true, force: true }));

const isRoot = process.getuid?.() === 0;
const HOUR = '2015-03-08T08'; // the arrival hour of imports at `now` below

function canMount(): boolean {
  const probe = mkdtempSync(path.join(base, 'probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const mountable = canMount();

/** Every file under `dir` (relative paths). */
function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

/** Runs the CLI as a user who may read but not write the (root-owned, or write-protected) lake. */
function runWithoutWrite(args: string[]): ReturnType<typeof runCli> {
  if (!isRoot) return runCli(args);
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, OPENEVENTS, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HOME: base },
    });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A lake with the capture imported into one hour and processed by the ETL. */
async function processedLake(dir: string): Promise<LocalStore> {
  const store = new LocalStore(dir);
  await importFiles(store, [CAPTURE], { partitionBy: 'arrival', now: Date.parse('2015-03-08T08:00:00Z') });
  await runEtl(store, { select: { all: true } });
  return store;
}

function expectNoStack(stderr: string): void {
  expect(stderr).not.toMatch(/hit a bug|\n\s+at /);
}

describe('environment faults: named, with the remedy, exit 1, never a stack', () => {
  it('a corrupt manifest is named by `lake ls`, with lake check as the remedy', async () => {
    const dir = mkdtempSync(path.join(base, 'manifest-'));
    const store = new LocalStore(dir);
    await importFiles(store, [CAPTURE], { partitionBy: 'arrival', now: Date.parse('2015-03-08T08:00:00Z') });
    writeFileSync(path.join(dir, manifestKey(HOUR)), '{"hour": "2015-03-08T06", "files": [');
    const run = await runCli(['lake', 'ls', '--lake', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: corrupt JSON in ${path.join(dir, manifestKey(HOUR))}`);
    expect(run.stderr).toContain('lake check --repair');
    expectNoStack(run.stderr);
  });

  it('a corrupt ETL state file is named by `etl`', async () => {
    const dir = mkdtempSync(path.join(base, 'state-'));
    await processedLake(dir);
    const state = path.join(dir, `_state/etl/hours/${HOUR}.json`);
    writeFileSync(state, '\u0000\u0000\u0000');
    const run = await runCli(['etl', '--lake', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: corrupt JSON in ${state}`);
    expectNoStack(run.stderr);
  });

  it('a file where the lake has a folder is named', async () => {
    const dir = mkdtempSync(path.join(base, 'notdir-'));
    writeFileSync(path.join(dir, 'raw'), 'oops');
    const run = await runCli(['lake', 'import', CAPTURE, '--lake', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`error: ${dir}/raw.*: part of this path is a file where a folder belongs`));
    expectNoStack(run.stderr);
  });

  it('maps a disk-full error thrown anywhere (even wrapped) to the file and the remedy', () => {
    const enospc = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: 'ENOSPC', errno: -28, syscall: 'write', path: '/lake/raw/x.gz' });
    const user = environmentError(new Error('import failed', { cause: enospc }));
    expect(user?.message).toBe('no space left on the device: cannot write /lake/raw/x.gz');
    expect(user?.hint).toMatch(/free space on the filesystem holding \/lake\/raw/);
    const duck = environmentError(new Error('IO Error: Could not write file "/lake/.cache/x.duckdb": No space left on device'));
    expect(duck?.message).toBe('no space left on the device: cannot write /lake/.cache/x.duckdb');
    expect(environmentError(new TypeError('x is undefined'))).toBeUndefined();
  });

  it.skipIf(!mountable)('a full disk (a 256 KiB tmpfs) stops `lake import` with the file named and no temporary file left', async () => {
    const dir = mkdtempSync(path.join(base, 'full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]);
    try {
      const run = await runCli(['lake', 'import', CAPTURE, '--lake', dir]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`error: no space left on the device: cannot write ${dir}/`));
      expect(run.stderr).toContain(`hint: free space on the filesystem holding ${dir}`);
      expectNoStack(run.stderr);
      expect(files(dir).filter((f) => path.basename(f).startsWith('.'))).toEqual([]);
    } finally {
      execFileSync('umount', [dir]);
    }
  });

  it.skipIf(!mountable)('a read-only lake: etl names the filesystem; lake ls, stats and query still answer', async () => {
    const dir = mkdtempSync(path.join(base, 'ro-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dir]);
    try {
      const store = await processedLake(dir);
      await runQuery(store, 'SELECT 1'); // builds the snapshot in <lake>/.cache
      // New raw data arrives, then the filesystem turns read-only: the snapshot is stale and .cache/ exists.
      await store.put('raw/2015/03/08/07/w-1-1.ndjson', JSON.stringify({ id: 'n1', mtime: 1425798000000 }) + '\n');
      await runEtl(store, { select: { all: true } });
      execFileSync('mount', ['-o', 'remount,ro', dir]);
      const etl = await runCli(['etl', '--all', '--lake', dir]);
      expect(etl.code).toBe(1);
      expect(etl.stderr).toMatch(new RegExp(`error: read-only filesystem: cannot \\w[\\w ]* ${dir}/`));
      expectNoStack(etl.stderr);
      const after = await runCli(['query', '--lake', dir, 'SELECT count(*) AS n FROM events']);
      expect(after.stderr).toBe('');
      expect(after.code).toBe(0);
      expect(Number(after.stdout.split('\n')[2])).toBeGreaterThan(500);
      const reads = await Promise.all([['lake', 'ls'], ['stats']].map((args) => runCli([...args, '--lake', dir])));
      expect(reads.map((r) => r.code)).toEqual([0, 0]);
    } finally {
      execFileSync('umount', [dir]);
      rmSync(fallbackCache(dir), { recursive: true, force: true });
    }
  });

  describe('a lake this user may read but not write', () => {
    let dir = '';
    beforeAll(async () => {
      dir = mkdtempSync(path.join(base, 'perm-'));
      chmodSync(dir, 0o755);
      const store = await processedLake(dir);
      // New raw data after the last snapshot, so a query must build a new one: .cache/ exists but is not writable.
      await store.put('raw/2015/03/08/07/w-1-1.ndjson', JSON.stringify({ id: 'n1', mtime: 1425798000000 }) + '\n');
      await runQuery(store, 'SELECT 1');
      await runEtl(store, { select: { all: true } });
      execFileSync('chmod', ['-R', 'a+rX,go-w', dir]);
      if (!isRoot) execFileSync('chmod', ['-R', 'a-w', dir]);
    });
    afterAll(() => {
      execFileSync('chmod', ['-R', 'u+w', dir]);
      rmSync(fallbackCache(dir), { recursive: true, force: true });
    });

    it('etl says permission denied, naming the file and the remedy', async () => {
      const run = await runWithoutWrite(['etl', '--all', '--lake', dir]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`error: permission denied: cannot [\\w ]+ ${dir}`));
      expect(run.stderr).toContain('hint: give this user access');
      expectNoStack(run.stderr);
    });

    it('query falls back to a cache in the temp folder although <lake>/.cache exists', async () => {
      const run = await runWithoutWrite(['query', '--lake', dir, '--format', 'json', 'SELECT count(*) AS n FROM hours']);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual([{ n: 2 }]);
    });
  });
});

/** Where a lake's query cache goes when the lake cannot take it (curated.ts). */
function fallbackCache(dir: string): string {
  const url = new LocalStore(dir).url;
  return path.join(os.tmpdir(), `openevents-curated-${createHash('sha1').update(url).digest('hex').slice(0, 12)}`);
}
