import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { HourId } from '../lake/layout.ts';
import type { CacheOptions } from '../lake/object-cache.ts';
import type { ObjectStore } from '../lake/store.ts';
import { copyTableFile, openDuck, readingFiles, sqlList, sqlString, type ReadFile } from './duck.ts';
import {
  commitSegments,
  hourOwners,
  ownedHours,
  publishSegmentFile,
  readTableManifest,
  segmentPath,
  unitOf,
  verifySegmentFile,
  type HourEntry,
  type HourOwner,
  type Segment,
  type SegmentFile,
  type TableManifest,
} from './segments.ts';
import { CURATED_TABLES, type CuratedTable } from './tables.ts';

/**
 * Compaction: in every closed unit (a closed day, or a closed month), the small segments and the
 * segments with masked hours (an hour rerun since) are merged into one, holding only the rows of
 * the hours they own. Big segments are left as they are, so the number of files follows the data:
 * an hourly lake ends with one file per table per month, a busy one with a few per day.
 * Rows are copied as they are (revisions too), so compaction changes no query result; each merge
 * is committed on its own, and a crash before a commit leaves only unreferenced files.
 */

/** A segment whose owned hours hold fewer raw records than this is merged when its unit is closed. */
export const SMALL_SEGMENT_RECORDS = 50_000;

export interface CompactionTask {
  unit: string;
  segments: Segment[];
  hours: HourId[];
  records: number;
}

export interface CompactionResult extends CompactionTask {
  durationMs: number;
}

export interface CompactOptions {
  nowMs: number;
  /** A unit is closed this long after its last hour ended. */
  graceMs: number;
  /** A folder for temporary files (removed by the caller). */
  scratch: string;
  /** Where an s3:// lake's segment files are cached (default: the lake's cache folder). */
  cache?: CacheOptions;
  signal?: AbortSignal;
  smallRecords?: number;
  /** Called before each merge starts. */
  onTask?: (task: CompactionTask, index: number, total: number) => void;
}

/** The merges due in the tables described by `manifest`. */
export function planCompaction(manifest: TableManifest | undefined, nowMs: number, graceMs: number, smallRecords = SMALL_SEGMENT_RECORDS): CompactionTask[] {
  const owners = hourOwners(manifest);
  const byUnit = new Map<string, Array<{ segment: Segment; owned: HourId[]; masked: boolean; records: number }>>();
  for (const segment of manifest?.segments ?? []) {
    const owned = ownedHours(segment, owners);
    if (owned.length === 0) continue;
    const { unit, closed } = unitOf(owned[0] as HourId, nowMs, graceMs);
    if (!closed) continue;
    const records = owned.reduce((n, h) => n + (segment.hours[h]?.[1] ?? 0), 0);
    byUnit.set(unit, [...(byUnit.get(unit) ?? []), { segment, owned, masked: owned.length < Object.keys(segment.hours).length, records }]);
  }
  const tasks: CompactionTask[] = [];
  for (const [unit, segments] of [...byUnit].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const candidates = segments.filter((s) => s.masked || s.records < smallRecords);
    if (candidates.length >= 2 || candidates.some((s) => s.masked)) {
      tasks.push({
        unit,
        segments: candidates.map((c) => c.segment),
        hours: candidates.flatMap((c) => c.owned).sort(),
        records: candidates.reduce((n, c) => n + c.records, 0),
      });
    }
  }
  return tasks;
}

/** Runs the merges due now, each committed as it ends. Stops between merges when the signal aborts. */
export async function compactTables(store: ObjectStore, options: CompactOptions): Promise<CompactionResult[]> {
  const tasks = planCompaction(await readTableManifest(store), options.nowMs, options.graceMs, options.smallRecords);
  const done: CompactionResult[] = [];
  for (const [index, task] of tasks.entries()) {
    if (options.signal?.aborted) break;
    options.onTask?.(task, index, tasks.length);
    const started = performance.now();
    await mergeSegments(store, task, options);
    done.push({ ...task, durationMs: Math.round(performance.now() - started) });
  }
  return done;
}

/** Writes the owned rows of a unit's segments as one segment and commits it in their place. */
async function mergeSegments(store: ObjectStore, task: CompactionTask, options: CompactOptions): Promise<void> {
  // Ownership as of now: another commit since planning may have taken an hour away.
  const owners = hourOwners(await readTableManifest(store));
  const live = task.segments.filter((s) => ownedHours(s, owners).length > 0);
  if (live.length === 0) return;
  const dir = path.join(options.scratch, `compact-${task.unit}`);
  await fs.mkdir(path.join(dir, 'tmp'), { recursive: true });
  const duck = await openDuck({ tempDir: path.join(dir, 'tmp') });
  try {
    const hours: Record<HourId, HourEntry> = {};
    for (const s of live) for (const h of ownedHours(s, owners)) hours[h] = s.hours[h] as HourEntry;
    const hourList = Object.keys(hours).sort();
    const files: Partial<Record<CuratedTable, SegmentFile>> = {};
    for (const table of CURATED_TABLES) {
      const inputs = await readFilesOf(store, live, table, owners, options.cache);
      if (inputs.length === 0) continue;
      const from = inputs.map((f) => `SELECT * FROM read_parquet(${sqlString(f.path)})${f.filter}`).join(' UNION ALL ');
      const out = path.join(dir, `${table}.parquet`);
      const rows = await readingFiles(duck.connection, store, inputs, () => copyTableFile(duck.connection, table, from, out));
      if (rows > 0) files[table] = await publishSegmentFile(store, table, hourList, out, rows);
    }
    await commitSegments(store, { add: [{ hours, files }], replace: live.map((s) => s.id) });
  } finally {
    duck.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** The local files of a table in these segments, checked against their names, with the filter that keeps only owned hours. */
export async function readFilesOf(
  store: ObjectStore,
  segments: readonly Segment[],
  table: CuratedTable,
  owners: ReadonlyMap<HourId, HourOwner>,
  cache: CacheOptions | undefined,
  only?: ReadonlySet<HourId>,
): Promise<Array<ReadFile & { filter: string }>> {
  const out: Array<ReadFile & { filter: string }> = [];
  for (const segment of segments) {
    const file = segment.files[table];
    if (!file) continue;
    const all = Object.keys(segment.hours);
    const wanted = ownedHours(segment, owners).filter((h) => !only || only.has(h));
    if (wanted.length === 0) continue;
    const local = await segmentPath(store, file, cache);
    await verifySegmentFile(store, file.key, local, all);
    out.push({ key: file.key, path: local, hours: all, filter: wanted.length === all.length ? '' : ` WHERE arrival_hour IN ${sqlList(wanted)}` });
  }
  return out;
}
