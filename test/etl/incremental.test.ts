import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runEtl } from '../../src/etl/run.ts';
import { computeStats } from '../../src/etl/stats.ts';
import { readEtlState } from '../../src/etl/state.ts';
import type { HourId } from '../../src/lake/layout.ts';
import { tempLake, writeRawObject } from '../helpers/etl-lake.ts';
import { event } from '../helpers/etl-fixtures.ts';
import { dumpTables } from '../helpers/etl-tables.ts';

const A: HourId = '2015-03-08T01';
const B: HourId = '2015-03-08T02';
const C: HourId = '2015-03-08T03';

type Lake = Awaited<ReturnType<typeof tempLake>>;

/** Three arrival hours: a late update (newer mtime later), an older mtime arriving last, a tie on mtime. */
async function writeHours(lake: Lake): Promise<void> {
  const nd = (...events: Array<Record<string, unknown>>): string => events.map((e) => JSON.stringify(e)).join('\n') + '\n';
  await writeRawObject(lake.store, A, 'w-1-2.ndjson', nd(event({ id: 'a', mtime: 1000, status: 'upcoming' }), event({ id: 'b', mtime: 1000, status: 'upcoming' })));
  await writeRawObject(lake.store, B, 'w-3-4.ndjson', nd(event({ id: 'a', mtime: 2000, status: 'canceled', yes_rsvp_count: 9 }), event({ id: 'c', mtime: 500 })));
  await writeRawObject(lake.store, C, 'w-5-6.ndjson', nd(event({ id: 'a', mtime: 1500, status: 'upcoming' }), event({ id: 'b', mtime: 1000, status: 'proposed' })));
}

/** Every file under curated/ with its modification time. */
async function curatedFiles(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const entries = await fs.readdir(path.join(dir, 'curated'), { recursive: true, withFileTypes: true });
  for (const e of entries) if (e.isFile()) out.set(path.join(e.parentPath, e.name), (await fs.stat(path.join(e.parentPath, e.name))).mtimeMs);
  return out;
}

describe('incremental, idempotent hourly runs', () => {
  let lake: Lake;
  beforeEach(async () => {
    lake = await tempLake();
    await writeHours(lake);
  });
  afterEach(async () => lake.cleanup());

  it('applies a late update, never lets an older mtime overwrite a newer one, and breaks ties by arrival', async () => {
    // When the hours are processed one run each, in arrival order
    for (const hour of [A, B, C]) await runEtl(lake.store, { select: { hours: [hour] } });
    // Then a is canceled (mtime 2000 from B; C's older 1500 does not win), b is C's later arrival of the same mtime
    const events = (await dumpTables(lake.dir, ['events'])).events?.map((r) => JSON.parse(r) as string[]);
    expect(events?.map((r) => [r[0], r[3], r[18], r[19]])).toEqual([
      ['a', 'canceled', '2000', B],
      ['b', 'proposed', '1000', C],
      ['c', 'upcoming', '500', B],
    ]);
    // And the history keeps every (event, mtime) once
    const changes = (await dumpTables(lake.dir, ['event_changes'])).event_changes?.map((r) => (JSON.parse(r) as string[]).slice(0, 3));
    expect(changes).toEqual([
      ['a', '1000', 'upcoming'],
      ['a', '1500', 'upcoming'],
      ['a', '2000', 'canceled'],
      ['b', '1000', 'proposed'],
      ['c', '500', 'upcoming'],
    ]);
  });

  it('gives byte-identical query results whatever the order and however often hours are processed', async () => {
    // Given everything processed in one run
    await runEtl(lake.store, { select: { all: true } });
    const all = JSON.stringify(await dumpTables(lake.dir));
    const stats = JSON.stringify({ ...(await computeStats(lake.store)), generatedAt: 0, freshness: 0 });
    // When one hour is reprocessed, and then every hour again in reverse order, one run each
    await runEtl(lake.store, { select: { hours: [B] } });
    expect(JSON.stringify(await dumpTables(lake.dir))).toBe(all);
    for (const hour of [C, B, A]) await runEtl(lake.store, { select: { hours: [hour] } });
    // Then the tables and the stats are the same, byte for byte
    expect(JSON.stringify(await dumpTables(lake.dir))).toBe(all);
    expect(JSON.stringify({ ...(await computeStats(lake.store)), generatedAt: 0, freshness: 0 })).toBe(stats);
  });

  it('writes only the rerun hour, so its cost does not depend on the history', async () => {
    await runEtl(lake.store, { select: { all: true } });
    const before = await curatedFiles(lake.dir);
    await new Promise((r) => setTimeout(r, 20));
    // When hour B is rerun (compaction off: a closed month would be merged again after it)
    await runEtl(lake.store, { select: { hours: [B] }, compact: false });
    const after = await curatedFiles(lake.dir);
    // Then every earlier file is untouched, and the new files hold hour B only
    expect(before.size).toBeGreaterThan(0);
    for (const [file, mtime] of before) if (!file.endsWith('_manifest.json')) expect(after.get(file)).toBe(mtime);
    const added = [...after.keys()].filter((f) => !before.has(f));
    expect(added.length).toBeGreaterThan(0);
    for (const file of added) expect(path.basename(file)).toMatch(new RegExp(`^${B}_${B}-[0-9a-f]{16}\\.parquet$`));
  });

  it('processes pending hours by default: new hours, and done hours that received new raw objects', async () => {
    expect((await runEtl(lake.store)).hours).toEqual([A, B, C]);
    expect((await runEtl(lake.store)).hours).toEqual([]);
    // Given a late raw object landing in hour B
    await new Promise((r) => setTimeout(r, 20));
    await writeRawObject(lake.store, B, 'w-7-7.ndjson', JSON.stringify(event({ id: 'd', mtime: 100 })) + '\n');
    // Then only B is pending, and its rerun adds d
    expect((await computeStats(lake.store)).freshness.filter((f) => f.stale).map((f) => f.hour)).toEqual([B]);
    const run = await runEtl(lake.store);
    expect(run.hours).toEqual([B]);
    expect(run.rawRecords).toBe(3);
    const state = await readEtlState(lake.store);
    expect(state.hours.map((h) => [h.hour, h.status, h.rawObjects])).toEqual([
      [A, 'done', 1],
      [B, 'done', 2],
      [C, 'done', 1],
    ]);
    expect(state.lastRun?.hours).toEqual([B]);
  });
});
