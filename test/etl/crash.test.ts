import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEtl } from '../../src/etl/run.ts';
import { readTableManifest } from '../../src/etl/segments.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { repeatedRealRecords, sparseHours, tempLake, writeSpread } from '../helpers/etl-lake.ts';
import { dumpTables } from '../helpers/etl-tables.ts';

type Lake = Awaited<ReturnType<typeof tempLake>>;

// 480 real records over 48 sparse hours in three closed months.
const HOURS = sparseHours('2015-02-10T03', 48, 31);
const LINES = repeatedRealRecords(480, { ids: 420 });

/** Starts `openevents etl` and kill -9s it as soon as its output matches `when`; resolves with the output so far. */
async function killDuring(args: string[], when: RegExp, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const child = spawnCli(args, { env: { ...process.env, ...env } });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`never saw ${when} before the deadline; output: ${out}`));
    }, 240_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (when.test(out)) child.kill('SIGKILL');
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`etl ended (${code}) before it could be killed: ${out}`));
      else resolve(out);
    });
  });
}

/** Names in the lake folder of scratch folders a run left. */
async function scratchLeft(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((e) => e.startsWith('.etl-'));
}

describe('kill -9 of etl, then run again: the same tables', () => {
  let reference: Record<string, string[]>;
  let clean: Lake;
  beforeAll(async () => {
    clean = await tempLake();
    await writeSpread(clean.store, LINES, HOURS);
    expect((await runEtl(clean.store, { select: { all: true } })).failed).toEqual([]);
    reference = await dumpTables(clean.dir);
  }, 300_000);
  afterAll(async () => clean?.cleanup());

  it('during a backfill: the rerun resumes after the last committed batch', async () => {
    const lake = await tempLake();
    try {
      await writeSpread(lake.store, LINES, HOURS);
      // Given a backfill in batches of at most 40 records, killed once its second batch is committed
      const out = await killDuring(['etl', '--lake', lake.dir, '--all'], /\[batch 2\//, { OPENEVENTS_ETL_BATCH_RECORDS: '40' });
      expect(out).toMatch(/\[batch 1\/\d+\]/);
      // Then the lake is readable right away: what was committed, consistent
      const partial = await dumpTables(lake.dir, ['hours']);
      expect(partial.hours!.length).toBeGreaterThanOrEqual(8);
      expect(partial.hours!.length).toBeLessThan(HOURS.length);
      // When the same backfill runs again
      const rerun = await runCli(['etl', '--lake', lake.dir, '--all', '--json'], { env: { ...process.env, OPENEVENTS_ETL_BATCH_RECORDS: '40' } });
      expect(rerun.code, rerun.stderr).toBe(0);
      // Then it resumed: the hours the killed run finished were kept, the others done now
      const result = JSON.parse(rerun.stdout) as { resumed: string[]; hours: string[] };
      expect(result.resumed.length).toBe(partial.hours!.length);
      expect([...result.resumed, ...result.hours].sort()).toEqual([...HOURS].sort());
      expect(rerun.stderr).toContain('resuming the run started');
      // And the tables are those of an uninterrupted run; the killed run's scratch folder is gone
      expect(await dumpTables(lake.dir)).toEqual(reference);
      expect(await scratchLeft(lake.dir)).toEqual([]);
    } finally {
      await lake.cleanup();
    }
  }, 600_000);

  it('during compaction: readers keep a consistent view, and the rerun compacts', async () => {
    const lake = await tempLake();
    try {
      await writeSpread(lake.store, LINES, HOURS);
      // Given a backfill of one hour per pass, left uncompacted: a segment per hour
      expect((await runEtl(lake.store, { select: { all: true }, batchRecords: 1, compact: false })).failed).toEqual([]);
      expect((await readTableManifest(lake.store))?.segments).toHaveLength(HOURS.length);
      // When a run is killed while it compacts its second month
      await killDuring(['etl', '--lake', lake.dir], /compacting \S+ \(2\//);
      // Then readers see the same tables as before, whatever was committed
      expect(await dumpTables(lake.dir)).toEqual(reference);
      // When etl runs again, it finishes the compaction: one segment per month, same tables
      const rerun = await runCli(['etl', '--lake', lake.dir]);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect((await readTableManifest(lake.store))?.segments.map((s) => s.id.slice(0, 7))).toEqual(['2015-02', '2015-03', '2015-04']);
      expect(await dumpTables(lake.dir)).toEqual(reference);
      expect(await scratchLeft(lake.dir)).toEqual([]);
    } finally {
      await lake.cleanup();
    }
  }, 600_000);
});
