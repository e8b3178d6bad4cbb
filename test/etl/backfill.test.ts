import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/etl/engine.ts';
import { DuckdbEngine } from '../../src/etl/engines/duckdb.ts';
import { runEtl } from '../../src/etl/run.ts';
import { hourOwners, readTableManifest } from '../../src/etl/segments.ts';
import { readEtlState } from '../../src/etl/state.ts';
import { rawObjectKey, type HourId } from '../../src/lake/layout.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { repeatedRealRecords, sparseHours, tempLake, writeSpread } from '../helpers/etl-lake.ts';
import { dumpTables } from '../helpers/etl-tables.ts';

type Lake = Awaited<ReturnType<typeof tempLake>>;

// 360 real records (ids repeat: 300 ids, so 60 come back later, newer or older) over 36 sparse
// hours, every 58 hours from late January: four months, all closed.
const HOURS = sparseHours('2015-01-20T05', 36, 58);
const LINES = repeatedRealRecords(360, { ids: 300 });

/**
 * The files of each table the manifest lists, by name (names are content hashes). Every Parquet
 * file in the folders is either listed or retired (kept until two commits later for readers).
 */
async function files(dir: string): Promise<Record<string, string[]>> {
  const manifest = await readTableManifest(new LocalStore(dir));
  const live = (manifest?.segments ?? []).flatMap((s) => Object.values(s.files).map((f) => f.key));
  const known = new Set([...live, ...(manifest?.retired ?? []).map((r) => r.key)]);
  for (const table of await fs.readdir(path.join(dir, 'curated'))) {
    if (table.startsWith('_')) continue;
    for (const f of await fs.readdir(path.join(dir, 'curated', table))) expect(known.has(`curated/${table}/${f}`), f).toBe(true);
  }
  const out: Record<string, string[]> = {};
  for (const key of live.sort()) {
    const [, table, name] = key.split('/') as [string, string, string];
    out[table] = [...(out[table] ?? []), name];
  }
  return out;
}

const withoutHours = (f: Record<string, string[]>): Record<string, string[]> => Object.fromEntries(Object.entries(f).filter(([t]) => t !== 'hours'));

describe('backfill in batches, compaction, reruns', () => {
  let batched: Lake;
  let hourly: Lake;
  let reference: Record<string, string[]>;

  beforeAll(async () => {
    batched = await tempLake();
    hourly = await tempLake();
    for (const lake of [batched, hourly]) await writeSpread(lake.store, LINES, HOURS);
    // When one lake is processed in batches of at most 100 records, the other hour by hour
    const run = await runEtl(batched.store, { select: { all: true }, batchRecords: 100 });
    expect(run.failed).toEqual([]);
    expect(run.batches).toBeGreaterThanOrEqual(4);
    expect(run.batches).toBeLessThan(HOURS.length / 4);
    for (const hour of HOURS) expect((await runEtl(hourly.store, { select: { hours: [hour] } })).failed).toEqual([]);
    reference = await dumpTables(batched.dir);
  }, 600_000);
  afterAll(async () => {
    await batched?.cleanup();
    await hourly?.cleanup();
  });

  it('gives the same tables as hour-by-hour runs, and the same files: one per table and month', async () => {
    const months = ['2015-01', '2015-02', '2015-03', '2015-04'];
    expect(reference.events?.length).toBe(300);
    expect(await dumpTables(hourly.dir)).toEqual(reference);
    // Hour-by-hour runs were compacted into what the batched passes wrote: the layout follows the data, not the history
    const a = await files(batched.dir);
    expect(a.events?.map((f) => f.slice(0, 7))).toEqual(months);
    expect(withoutHours(await files(hourly.dir))).toEqual(withoutHours(a));
    const manifest = await readTableManifest(hourly.store);
    expect(manifest?.segments).toHaveLength(months.length);
    expect([...hourOwners(manifest).keys()].sort()).toEqual([...HOURS].sort());
  });

  it('replaces exactly the rerun hour: a new segment masks it, nothing else is written, and compaction restores the same files', async () => {
    const before = await files(batched.dir);
    const hour = HOURS[20] as HourId;
    // When one hour is rerun without compaction
    const run = await runEtl(batched.store, { select: { hours: [hour] }, compact: false });
    expect(run.hours).toEqual([hour]);
    // Then every earlier file is still there, and one new file per table with rows holds that hour only
    const after = await files(batched.dir);
    for (const [table, names] of Object.entries(before)) {
      expect(after[table]).toEqual(expect.arrayContaining(names));
      const added = (after[table] ?? []).filter((n) => !names.includes(n));
      expect(added.every((n) => n.startsWith(`${hour}_${hour}-`))).toBe(true);
    }
    expect(await dumpTables(batched.dir)).toEqual(reference);
    // When compacted, the month is one file again, byte for byte the one before (only hours.processed_at differs)
    await runEtl(batched.store, { select: { hours: [] } });
    expect(withoutHours(await files(batched.dir))).toEqual(withoutHours(before));
    expect(await dumpTables(batched.dir)).toEqual(reference);
  });

  it('keeps the incremental snapshot equal to one built from scratch, when an older version wins again', async () => {
    // Given an id whose newest version arrived in a later hour ...
    const ids = new Map<string, HourId[]>();
    LINES.forEach((l, i) => {
      const id = (JSON.parse(l) as { id: string }).id;
      ids.set(id, [...(ids.get(id) ?? []), HOURS[i % HOURS.length] as HourId]);
    });
    const current = new Map((await dumpTables(hourly.dir, ['events'])).events?.map((r) => JSON.parse(r) as string[]).map((r) => [r[0], r[19]]));
    const [id, seen] = [...ids].find(([i, hs]) => hs.length === 2 && current.get(i) === hs[1]) as [string, HourId[]];
    const later = seen[1] as HourId;
    // ... when that later hour's raw object loses the record and the hour is rerun
    const key = rawObjectKey(later, 'spread', 1, LINES.filter((_, i) => HOURS[i % HOURS.length] === later).length);
    const kept = LINES.filter((l, i) => HOURS[i % HOURS.length] === later && (JSON.parse(l) as { id: string }).id !== id);
    await hourly.store.delete(key);
    await hourly.store.put(rawObjectKey(later, 'spread', 1, kept.length), gzipSync(kept.join('\n') + '\n'));
    expect((await runEtl(hourly.store, { select: { hours: [later] } })).failed).toEqual([]);
    // Then the snapshot brought up to date and one built from nothing agree, and the id is back to its earlier hour
    const incremental = await dumpTables(hourly.dir);
    await fs.rm(path.join(hourly.dir, '.cache'), { recursive: true, force: true });
    expect(await dumpTables(hourly.dir)).toEqual(incremental);
    const event = incremental.events?.map((r) => JSON.parse(r) as string[]).find((r) => r[0] === id);
    expect(event?.[19]).toBe(seen[0]);
  });
});

describe('a failing hour in a batch', () => {
  let lake: Lake;
  beforeAll(async () => {
    lake = await tempLake();
    await writeSpread(lake.store, LINES.slice(0, 120), HOURS.slice(0, 24));
  });
  afterAll(async () => lake?.cleanup());

  it('fails alone and is named when one of its raw objects is corrupt', async () => {
    // Given one hour whose gzip object is cut short
    const bad = HOURS[5] as HourId;
    const key = rawObjectKey(bad, 'spread', 1, 5);
    const bytes = (await lake.store.get(key)) as Uint8Array;
    await lake.store.put(key, bytes.subarray(0, bytes.length - 8));
    // When every hour runs in one batch
    const run = await runEtl(lake.store, { select: { all: true } });
    // Then only that hour failed, saying which object and why; the others are in the tables
    expect(run.batches).toBe(1);
    expect(run.failed).toEqual([bad]);
    expect(run.states.find((s) => s.hour === bad)?.error).toMatch(new RegExp(`^${key} cannot be read: unexpected end of file`));
    const hours = (await dumpTables(lake.dir, ['hours'])).hours?.map((r) => (JSON.parse(r) as string[]).at(-1));
    expect(hours).toEqual(HOURS.slice(0, 24).filter((h) => h !== bad));
    expect((await readEtlState(lake.store)).hours.filter((h) => h.status === 'failed').map((h) => h.hour)).toEqual([bad]);
  });

  it('is found by splitting a batch that fails as a whole', async () => {
    // Given an engine that fails any pass containing one hour (an error it cannot pin on an object)
    const bad = HOURS[17] as HourId;
    const duck = new DuckdbEngine();
    const passes: number[] = [];
    const engine: Engine = {
      name: 'duckdb',
      run: (batches, context, done) =>
        duck.run(batches, context, async (batch, result) => {
          passes.push(batch.hours.length);
          await done(batch, batch.hours.includes(bad) ? { ok: false, error: 'Out of Memory Error: simulated' } : result);
        }),
    };
    const run = await runEtl(lake.store, { select: { hours: HOURS.slice(8, 24) }, engine, restart: true });
    // Then the batch is halved until the hour is alone: it fails with the engine's error, the rest commit
    expect(run.failed).toEqual([bad]);
    expect(run.states.find((s) => s.hour === bad)?.error).toBe('Out of Memory Error: simulated');
    expect(run.states.filter((s) => s.status === 'done')).toHaveLength(15);
    expect(passes).toEqual([16, 8, 8, 4, 4, 2, 2, 1, 1]);
  });
});
