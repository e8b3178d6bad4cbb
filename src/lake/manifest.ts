import { getJson, putJson, type ObjectStore } from './store.ts';
import { hourStartMs, isHourId, manifestKey, rawHourPrefix, type HourId, type HourManifest } from './layout.ts';
import { countRecords } from './records.ts';

/** Known record counts of raw objects (key → records), so closing an hour need not re-read them. */
export type KnownCounts = ReadonlyMap<string, number>;

/** True for the data objects of a raw hour: not `_`- or `.`-prefixed names. */
export function isRawDataKey(key: string): boolean {
  const name = key.slice(key.lastIndexOf('/') + 1);
  return name.length > 0 && !name.startsWith('_') && !name.startsWith('.');
}

/** The manifest of a closed hour, or undefined while it is open. */
export function readManifest(store: ObjectStore, hour: HourId): Promise<HourManifest | undefined> {
  return getJson<HourManifest>(store, manifestKey(hour));
}

/** True once `hour` may be closed: it ended at least `graceMs` ago. */
export function hourIsDue(hour: HourId, nowMs: number, graceMs: number): boolean {
  return hourStartMs(hour) + 3_600_000 + graceMs <= nowMs;
}

/**
 * Closes a raw hour: writes `_manifest.json` listing every data object in it with its record
 * count and size. Counts come from `known`, then from an existing manifest, and only otherwise
 * from reading the object (so closing is cheap for the writer that just wrote the files, and
 * correct for objects other writers or imports put there). Re-closing rewrites the manifest.
 */
export async function closeHour(store: ObjectStore, hour: HourId, nowMs: number, known: KnownCounts = new Map()): Promise<HourManifest> {
  const previous = await readManifest(store, hour);
  const before = new Map((previous?.files ?? []).map((f) => [f.key, f]));
  const files: HourManifest['files'] = [];
  for await (const info of store.list(rawHourPrefix(hour))) {
    if (!isRawDataKey(info.key)) continue;
    let records = known.get(info.key);
    const old = before.get(info.key);
    if (records === undefined && old && old.bytes === info.size) records = old.records;
    if (records === undefined) {
      const bytes = await store.get(info.key);
      records = bytes ? await countRecords(bytes) : 0;
    }
    files.push({ key: info.key, records, bytes: info.size });
  }
  const manifest: HourManifest = {
    hour,
    closedAt: new Date(nowMs).toISOString(),
    files,
    records: files.reduce((n, f) => n + f.records, 0),
    bytes: files.reduce((n, f) => n + f.bytes, 0),
  };
  await putJson(store, manifestKey(hour), manifest);
  return manifest;
}

/** The raw hours present in the lake (from their keys), sorted. */
export async function rawHoursPresent(store: ObjectStore): Promise<HourId[]> {
  const hours = new Set<HourId>();
  for await (const info of store.list('raw/')) {
    const m = /^raw\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\//.exec(info.key);
    if (m) hours.add(`${m[1]}-${m[2]}-${m[3]}T${m[4]}`);
  }
  return [...hours].filter(isHourId).sort();
}

/**
 * Closes every raw hour that is due and has no manifest yet; returns the manifests written.
 * The streamer runs this at start-up, `lake import` after importing.
 */
export async function closeDueHours(store: ObjectStore, nowMs: number, graceMs: number, known: KnownCounts = new Map()): Promise<HourManifest[]> {
  const out: HourManifest[] = [];
  for (const hour of await rawHoursPresent(store)) {
    if (!hourIsDue(hour, nowMs, graceMs)) continue;
    if (await store.get(manifestKey(hour))) continue;
    out.push(await closeHour(store, hour, nowMs, known));
  }
  return out;
}
