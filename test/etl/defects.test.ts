import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeHour } from '../../src/lake/manifest.ts';
import { rawObjectKey, type HourId } from '../../src/lake/layout.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { repeatedRealRecords, tempLake, writeSpread } from '../helpers/etl-lake.ts';

/**
 * Defects of issue 15 on the ETL side, each seen through the command line as an operator meets
 * it: an hour replaced by fewer records than its manifest promises, a deleted curated file going
 * unnoticed, a killed run's scratch folder left forever, a corrupt Parquet file reported as a bug.
 */

type Lake = Awaited<ReturnType<typeof tempLake>>;

const A: HourId = '2015-03-08T06';
const B: HourId = '2015-03-08T07';

async function count(lake: Lake, sql: string): Promise<number> {
  const run = await runCli(['query', '--lake', lake.dir, '--format', 'json', sql]);
  expect(run.code, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as Array<{ n: number }>)[0]!.n;
}

/** Every Parquet file under curated/, by path. */
async function parquetFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(path.join(dir, 'curated'), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.parquet')).map((e) => path.join(e.parentPath, e.name)).sort();
}

describe('the ETL defends the lake', () => {
  let lake: Lake;
  beforeEach(async () => {
    // Given two closed raw hours of 30 real records each, in two objects per hour, processed
    lake = await tempLake();
    const lines = repeatedRealRecords(120);
    await writeSpread(lake.store, lines.slice(0, 60), [A, B]);
    for (const [i, hour] of [A, B].entries()) {
      const more = lines.slice(60 + i * 30, 90 + i * 30);
      await lake.store.put(rawObjectKey(hour, 'late', 1, more.length), more.join('\n') + '\n');
      await closeHour(lake.store, hour, Date.UTC(2016, 0, 1));
    }
    const run = await runCli(['etl', '--lake', lake.dir]);
    expect(run.code, run.stderr).toBe(0);
  }, 120_000);
  afterEach(async () => lake?.cleanup());

  it('refuses to replace an hour with fewer records than its manifest promises', async () => {
    expect(await count(lake, `SELECT count(*) AS n FROM events WHERE arrival_hour = '${A}'`)).toBe(60);
    // When one raw object of the hour is deleted (its manifest remains) and the hour is rerun
    const gone = rawObjectKey(A, 'late', 1, 30);
    await lake.store.delete(gone);
    const run = await runCli(['etl', '--lake', lake.dir, '--hour', A]);
    // Then etl refuses, names the missing object, and exits 1
    expect(run.code).toBe(1);
    expect(run.stderr + run.stdout).toContain(gone);
    expect(run.stderr).not.toMatch(/hit a bug|\n\s+at /);
    // And the hour keeps its rows
    expect(await count(lake, `SELECT count(*) AS n FROM events WHERE arrival_hour = '${A}'`)).toBe(60);
  }, 120_000);

  it('notices a deleted curated file and rebuilds what it held from raw', async () => {
    const before = await count(lake, 'SELECT count(*) AS n FROM events');
    expect(before).toBe(120);
    // When a curated events file is deleted by hand
    const events = (await parquetFiles(lake.dir)).filter((f) => f.includes(`${path.sep}events${path.sep}`));
    await fs.rm(events[0]!);
    // Then `etl` (pending hours) does not say there is nothing to do: it rebuilds the rows
    const run = await runCli(['etl', '--lake', lake.dir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain('nothing to do');
    expect(await count(lake, 'SELECT count(*) AS n FROM events')).toBe(before);
  }, 120_000);

  it('removes the scratch folder a killed etl left', async () => {
    // Given an etl run killed while it works (its scratch folder exists)
    const child = spawnCli(['etl', '--lake', lake.dir, '--all']);
    const seen = await new Promise<boolean>((resolve) => {
      const poll = setInterval(async () => {
        const scratch = (await fs.readdir(lake.dir)).filter((e) => e.startsWith('.etl-'));
        if (scratch.length > 0) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve(true);
        }
      }, 20);
      child.once('exit', () => {
        clearInterval(poll);
        resolve(false);
      });
    });
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
    expect(seen).toBe(true);
    // When etl runs again
    const run = await runCli(['etl', '--lake', lake.dir]);
    expect(run.code, run.stderr).toBe(0);
    // Then no scratch folder is left
    expect((await fs.readdir(lake.dir)).filter((e) => e.startsWith('.etl-'))).toEqual([]);
  }, 120_000);

  it('names a corrupt curated file and the remedy instead of a stack trace', async () => {
    // When the footer of a curated file is overwritten
    const file = (await parquetFiles(lake.dir)).find((f) => f.includes(`${path.sep}events${path.sep}`))!;
    const bytes = await fs.readFile(file);
    bytes.fill(0x11, bytes.length - 200, bytes.length - 8);
    await fs.writeFile(file, bytes);
    await fs.rm(path.join(lake.dir, '.cache'), { recursive: true, force: true });
    const run = await runCli(['query', '--lake', lake.dir, 'SELECT count(*) FROM events']);
    // Then the query fails with one clear error: which file, and what to run
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(file);
    expect(run.stderr).toMatch(/damaged/);
    expect(run.stderr).not.toMatch(/hit a bug|\n\s+at /);
    // And the remedy it names works
    const hint = /hint: rebuild its hours from raw: openevents (etl .*)/.exec(run.stderr)?.[1];
    expect(hint).toBeDefined();
    const fix = await runCli([...hint!.split(' '), '--lake', lake.dir]);
    expect(fix.code, fix.stderr).toBe(0);
    expect(await count(lake, 'SELECT count(*) AS n FROM events')).toBe(120);
  }, 120_000);
});
