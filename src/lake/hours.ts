import { RAW, hourOfKey, manifestKey, rawHourPrefix, type HourId, type HourManifest } from './layout.ts';
import { isRawDataKey } from './manifest.ts';
import { countRecords } from './records.ts';
import { getJson, listAll, type ObjectInfo, type ObjectStore } from './store.ts';

/** One raw hour of the lake, as `lake ls` shows it. */
export interface RawHour {
  hour: HourId;
  files: number;
  records: number;
  /** Bytes as stored (compressed for .gz objects). */
  bytes: number;
  /** True once the hour has its `_manifest.json`; the numbers then come from it. */
  closed: boolean;
  closedAt?: string;
  /** Data objects present now but not in the manifest (written after the hour was closed). */
  unlisted?: number;
}

export interface ListRawHoursOptions {
  /** Count the records of open hours by reading their objects (default true); otherwise records is 0 for them. */
  countOpen?: boolean;
  /** Only hours ≥ from / ≤ to. */
  from?: HourId;
  to?: HourId;
}

/**
 * The raw hours of the lake, oldest first, with files, records and bytes: from the manifest
 * when the hour is closed, else by listing and reading its objects (gzip or plain, NDJSON or
 * Firehose-style records).
 */
export async function listRawHours(store: ObjectStore, options: ListRawHoursOptions = {}): Promise<RawHour[]> {
  const byHour = new Map<HourId, { data: Array<{ key: string; size: number }>; manifest: boolean }>();
  for await (const info of store.list('raw/')) {
    const hour = hourOfKey(info.key);
    if (!hour || (options.from && hour < options.from) || (options.to && hour > options.to)) continue;
    // Only objects directly in the hour's folder belong to it.
    if (info.key.split('/').length !== 6) continue;
    let entry = byHour.get(hour);
    if (!entry) byHour.set(hour, (entry = { data: [], manifest: false }));
    if (info.key.endsWith('/_manifest.json')) entry.manifest = true;
    else if (isRawDataKey(info.key)) entry.data.push({ key: info.key, size: info.size });
  }
  const out: RawHour[] = [];
  for (const hour of [...byHour.keys()].sort()) {
    const entry = byHour.get(hour)!;
    const manifest = entry.manifest ? await getJson<HourManifest>(store, manifestKey(hour)) : undefined;
    if (manifest) {
      const listed = new Set(manifest.files.map((f) => f.key));
      const unlisted = entry.data.filter((d) => !listed.has(d.key)).length;
      out.push({
        hour,
        files: manifest.files.length,
        records: manifest.records,
        bytes: manifest.bytes,
        closed: true,
        closedAt: manifest.closedAt,
        ...(unlisted > 0 ? { unlisted } : {}),
      });
      continue;
    }
    let records = 0;
    if (options.countOpen ?? true) {
      for (const d of entry.data) {
        const bytes = await store.get(d.key);
        if (bytes) records += await countRecords(bytes);
      }
    }
    out.push({ hour, files: entry.data.length, records, bytes: entry.data.reduce((n, d) => n + d.size, 0), closed: false });
  }
  return out;
}

/**
 * The data objects of every raw hour (what the ETL reads): objects directly in an hour's folder
 * whose names do not start with `_` (manifests) or `.` (temporary files).
 */
export async function rawObjectsByHour(store: ObjectStore): Promise<Map<HourId, ObjectInfo[]>> {
  const out = new Map<HourId, ObjectInfo[]>();
  for (const info of await listAll(store, `${RAW}/`)) {
    const hour = hourOfKey(info.key);
    const name = info.key.slice(info.key.lastIndexOf('/') + 1);
    // Only objects directly in the hour's folder belong to it.
    if (!hour || !isRawDataKey(info.key) || info.key !== rawHourPrefix(hour) + name) continue;
    const list = out.get(hour) ?? [];
    list.push(info);
    out.set(hour, list);
  }
  return out;
}
