import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { UserError, errorMessage } from '../errors.ts';
import { CURATED, hourStartMs, type HourId } from '../lake/layout.ts';
import { cachedFilePath, localFiles, pruneCachedFiles, type CacheOptions } from '../lake/object-cache.ts';
import { listAll, putJson, type ObjectInfo, type ObjectStore } from '../lake/store.ts';
import { CURATED_TABLES, type CuratedTable } from './tables.ts';

/**
 * The curated tables' storage: segments and one table manifest (docs/tables.md "Storage").
 *
 * A segment is one Parquet file per table holding the rows of a set of arrival hours (the
 * `arrival_hour` column is in the file), written by one engine pass or one compaction. Files are
 * named by their content (`curated/<table>/<first>_<last>-<sha256/16>.parquet`) and never change.
 * `curated/_manifest.json` lists the live segments and, per hour, the revision of its rows: an
 * hour belongs to the segment holding its highest revision, so a rerun of one hour adds a segment
 * and masks that hour in the old one without touching it. Replacing the manifest (one atomic put)
 * is the commit: readers see the old set of files or the new one, never a mix. Files a commit
 * drops are deleted two commits later, so a reader that has just read a manifest still finds them.
 */

export const TABLE_MANIFEST = `${CURATED}/_manifest.json`;

/** An hour's entry in a segment: the revision of its rows (the generation that produced them) and its raw records. */
export type HourEntry = [rev: number, records: number];

export interface SegmentFile {
  key: string;
  rows: number;
  bytes: number;
}

export interface Segment {
  id: string;
  /** The hours whose rows the files hold, with the revision of those rows. */
  hours: Record<HourId, HourEntry>;
  /** One file per table that has rows for these hours. */
  files: Partial<Record<CuratedTable, SegmentFile>>;
}

export interface TableManifest {
  format: 1;
  /** Random id of this set of tables: a lake whose curated/ is recreated gets a new one (snapshots key on it). */
  tableId: string;
  /** Bumped by every commit. */
  generation: number;
  updatedAt: string;
  segments: Segment[];
  /** Files dropped by the commit of `generation`, deleted by the commit after the next. */
  retired: Array<{ key: string; generation: number }>;
}

/** The owner of an hour: the segment holding its highest revision. */
export interface HourOwner {
  segment: Segment;
  rev: number;
  records: number;
}

/** Reads the table manifest; undefined when the lake has no curated tables yet. A damaged one is a UserError. */
export async function readTableManifest(store: ObjectStore): Promise<TableManifest | undefined> {
  const bytes = await store.get(TABLE_MANIFEST);
  if (bytes === undefined) return undefined;
  let manifest: TableManifest;
  try {
    manifest = JSON.parse(Buffer.from(bytes).toString('utf8')) as TableManifest;
  } catch (error) {
    throw damaged(store, errorMessage(error));
  }
  if (manifest?.format !== 1 || !Array.isArray(manifest.segments) || typeof manifest.generation !== 'number') {
    throw damaged(store, manifest?.format !== undefined && manifest.format !== 1 ? `format ${String(manifest.format)} is newer than this version reads` : 'not a table manifest');
  }
  return manifest;
}

function damaged(store: ObjectStore, why: string): UserError {
  return new UserError(`${location(store, TABLE_MANIFEST)} cannot be read: ${why}`, {
    hint: 'rebuild the curated tables from raw: move curated/ aside and run `openevents etl --all`',
  });
}

/** A key of the lake as an operator finds it (a path for a local lake, a URL otherwise). */
export function location(store: ObjectStore, key: string): string {
  return store.localPath(key) ?? `${store.url.replace(/\/$/, '')}/${key}`;
}

/** Every hour of the tables and the segment that owns it. */
export function hourOwners(manifest: TableManifest | undefined): Map<HourId, HourOwner> {
  const out = new Map<HourId, HourOwner>();
  for (const segment of manifest?.segments ?? []) {
    for (const [hour, [rev, records]] of Object.entries(segment.hours)) {
      const current = out.get(hour);
      if (!current || rev > current.rev) out.set(hour, { segment, rev, records });
    }
  }
  return out;
}

/** The hours a segment owns (its others are masked: a later revision lives in another segment). */
export function ownedHours(segment: Segment, owners: ReadonlyMap<HourId, HourOwner>): HourId[] {
  return Object.keys(segment.hours)
    .filter((h) => owners.get(h)?.segment.id === segment.id)
    .sort();
}

/** A segment to add: its hours (revision 0 = the revision of this commit) and files. */
export interface NewSegment {
  hours: Record<HourId, HourEntry>;
  files: Partial<Record<CuratedTable, SegmentFile>>;
}

/**
 * Commits a change to the tables: adds segments, removes the segments `replace` names (a
 * compaction's sources), drops segments that no longer own any hour, and replaces the manifest in
 * one put. The manifest is read again right before, so a commit of another process in between is
 * kept (the last writer's view of an hour wins). Returns the committed manifest.
 */
export async function commitSegments(
  store: ObjectStore,
  change: { add: NewSegment[]; replace?: readonly string[] },
  now: Date = new Date(),
): Promise<TableManifest> {
  const previous = await readTableManifest(store);
  const generation = (previous?.generation ?? 0) + 1;
  const replace = new Set(change.replace ?? []);
  const added: Segment[] = change.add.map((s) => {
    const hours = Object.fromEntries(Object.entries(s.hours).map(([h, [rev, records]]) => [h, [rev === 0 ? generation : rev, records] as HourEntry]));
    const keys = CURATED_TABLES.map((t) => s.files[t]?.key ?? '').join('\n');
    const sorted = Object.keys(hours).sort();
    return { id: `${sorted[0]}_${sorted.at(-1)}-${createHash('sha256').update(keys).digest('hex').slice(0, 12)}`, hours, files: s.files };
  });
  const before = previous?.segments ?? [];
  const candidates = [...before.filter((s) => !replace.has(s.id)), ...added.filter((a) => !before.some((s) => s.id === a.id))];
  const owners = hourOwners({ segments: candidates } as TableManifest);
  const segments = candidates.filter((s) => ownedHours(s, owners).length > 0).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const liveKeys = new Set(segments.flatMap((s) => Object.values(s.files).map((f) => f.key)));
  const dropped = [...before, ...added].filter((s) => !segments.includes(s)).flatMap((s) => Object.values(s.files).map((f) => f.key));
  const retired = [
    ...(previous?.retired ?? []).filter((r) => r.generation === generation - 1),
    ...dropped.map((key) => ({ key, generation })),
  ].filter((r) => !liveKeys.has(r.key));
  const manifest: TableManifest = {
    format: 1,
    tableId: previous?.tableId ?? randomUUID(),
    generation,
    updatedAt: now.toISOString(),
    segments,
    retired: [...new Map(retired.map((r) => [r.key, r])).values()],
  };
  await putJson(store, TABLE_MANIFEST, manifest);
  // Files retired by earlier commits: no reader of the previous manifest needs them any more.
  for (const r of previous?.retired ?? []) if (r.generation < generation - 1 && !liveKeys.has(r.key)) await store.delete(r.key);
  return manifest;
}

/** The content-addressed key of a segment file. */
export function segmentFileKey(table: CuratedTable, hours: readonly HourId[], sha256: string): string {
  const sorted = [...hours].sort();
  return `${CURATED}/${table}/${sorted[0]}_${sorted.at(-1)}-${sha256.slice(0, 16)}.parquet`;
}

/** SHA-256 of a file, hex. */
export async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Moves a finished local Parquet file into the lake under its content-addressed key. */
export async function publishSegmentFile(store: ObjectStore, table: CuratedTable, hours: readonly HourId[], file: string, rows: number): Promise<SegmentFile> {
  const [sha, stat] = await Promise.all([fileSha256(file), fs.stat(file)]);
  const key = segmentFileKey(table, hours, sha);
  await store.putFile(key, file, { contentType: 'application/vnd.apache.parquet' });
  return { key, rows, bytes: stat.size };
}

/**
 * Deletes Parquet files under curated/ that no manifest references (live or retired): what a
 * killed run or compaction left before its commit. Only files older than `graceMs` go, so the
 * uncommitted output of a run still in progress elsewhere is left alone.
 */
export async function sweepOrphans(store: ObjectStore, manifest: TableManifest | undefined, nowMs: number, graceMs = 3_600_000): Promise<string[]> {
  const known = new Set([...(manifest?.segments ?? []).flatMap((s) => Object.values(s.files).map((f) => f.key)), ...(manifest?.retired ?? []).map((r) => r.key)]);
  const removed: string[] = [];
  for (const table of CURATED_TABLES) {
    for (const info of await listAll(store, `${CURATED}/${table}/`)) {
      // Files directly in the table folder only: legacy hour partitions are migrated, not swept.
      if (info.key.split('/').length !== 3 || !info.key.endsWith('.parquet') || known.has(info.key)) continue;
      if (info.mtimeMs > nowMs - graceMs) continue;
      await store.delete(info.key);
      removed.push(info.key);
    }
  }
  return removed;
}

/**
 * The compaction unit an hour falls in: its month once the month is closed, else its day.
 * Units only grow as time passes (hours of an open day, then a closed day, then a closed month),
 * so a segment never straddles its hours' unit. A unit is closed `graceMs` after its last hour ended.
 */
export function unitOf(hour: HourId, nowMs: number, graceMs: number): { unit: string; closed: boolean } {
  const month = hour.slice(0, 7);
  if (unitEndMs(month) + graceMs <= nowMs) return { unit: month, closed: true };
  const day = hour.slice(0, 10);
  return { unit: day, closed: unitEndMs(day) + graceMs <= nowMs };
}

/** End (exclusive, ms) of a unit 'YYYY-MM' or 'YYYY-MM-DD'. */
function unitEndMs(unit: string): number {
  if (unit.length === 10) return hourStartMs(`${unit}T00`) + 86_400_000;
  const [y, m] = unit.split('-').map(Number) as [number, number];
  return Date.UTC(y, m, 1);
}

/**
 * A local file for a segment file: the file itself in a local lake, else its copy in the lake's
 * object cache (lake/object-cache.ts; downloaded once: keys are content-addressed, so the size
 * names the version).
 */
export async function segmentPath(store: ObjectStore, file: SegmentFile, cache: CacheOptions = {}): Promise<string> {
  const [local] = await localFiles(store, [segmentObject(file)], cache);
  if (local === undefined) throw missingFile(store, file.key);
  return local;
}

/** A segment file as an object of the store (what the object cache keys its copy by). */
export function segmentObject(file: SegmentFile): ObjectInfo {
  return { key: file.key, size: file.bytes, mtimeMs: 0 };
}

/** Removes an s3:// lake's cached copies of curated files that no live segment lists any more. */
export async function pruneSegmentCopies(store: ObjectStore, manifest: TableManifest | undefined, cache: CacheOptions = {}): Promise<void> {
  if (store.localPath(CURATED) !== undefined) return;
  const keep = new Set((manifest?.segments ?? []).flatMap((s) => Object.values(s.files).map((f) => cachedFilePath(store, segmentObject(f), cache))));
  await pruneCachedFiles(store, `${CURATED}/`, keep, cache);
}

/**
 * Checks a segment file against the hash in its name (Parquet carries no checksum by default: a
 * flipped byte in a data page reads back as wrong values, silently). Throws a UserError naming it.
 */
export async function verifySegmentFile(store: ObjectStore, key: string, file: string, hours: readonly HourId[]): Promise<void> {
  const expected = /-([0-9a-f]{16})\.parquet$/.exec(key)?.[1];
  const stat = await fs.stat(file).catch(() => undefined);
  if (!expected || !stat) return;
  const stamp = `${file}|${stat.size}|${stat.mtimeMs}`;
  if (verified.has(stamp)) return;
  if ((await fileSha256(file)).slice(0, 16) !== expected) throw damagedFile(store, key, hours, 'its content does not match the hash in its name');
  verified.add(stamp);
}

/** Files this process has checked (content-addressed: a file that matched once matches while unchanged). */
const verified = new Set<string>();

/** A curated file that cannot be read: say which, why, and how to rebuild its hours. */
export function damagedFile(store: ObjectStore, key: string, hours: readonly HourId[], why: string): UserError {
  const sorted = [...hours].sort();
  return new UserError(`curated file ${location(store, key)} is damaged: ${why}`, {
    hint: `rebuild its hours from raw: openevents etl --from ${sorted[0]} --to ${sorted.at(-1)}`,
  });
}

/** A curated file the manifest lists is gone (a reader retries: a commit may have just replaced it). */
export class MissingFileError extends UserError {}

/** A curated file the manifest lists is gone: say which and how to rebuild it. */
export function missingFile(store: ObjectStore, key: string): MissingFileError {
  return new MissingFileError(`curated file ${location(store, key)} is missing (the table manifest lists it)`, {
    hint: 'run `openevents etl`: it rebuilds the hours of missing files from raw',
  });
}
