import { rawObjectsByHour } from '../lake/hours.ts';
import { manifestKey, rawHourPrefix, type HourId, type HourManifest } from '../lake/layout.ts';
import { isRawDataKey } from '../lake/manifest.ts';
import { getJson, listAll, type ObjectStore } from '../lake/store.ts';
import type { RawInput } from './engine.ts';

/** Above this many hours asked for, one listing of raw/ is cheaper than a listing per hour. */
const PER_HOUR_LISTING = 200;

/**
 * The raw objects the ETL reads, by hour (all raw hours, or only `hours`): the one place the
 * engines' input is listed. Objects of a local lake carry their file path, so engines read them
 * in place; a remote lake's objects are read through the store (or a local cache put here).
 */
export async function listRawInputs(store: ObjectStore, hours?: readonly HourId[]): Promise<Map<HourId, RawInput[]>> {
  const out = new Map<HourId, RawInput[]>();
  const add = (hour: HourId, info: { key: string; size: number; mtimeMs: number }): void => {
    const path = store.localPath(info.key);
    out.set(hour, [...(out.get(hour) ?? []), { hour, key: info.key, size: info.size, mtimeMs: info.mtimeMs, ...(path ? { path } : {}) }]);
  };
  if (hours && hours.length <= PER_HOUR_LISTING) {
    for (const hour of hours) {
      const prefix = rawHourPrefix(hour);
      for (const info of await listAll(store, prefix)) if (isRawDataKey(info.key) && !info.key.slice(prefix.length).includes('/')) add(hour, info);
    }
    return out;
  }
  const wanted = hours ? new Set(hours) : undefined;
  for (const [hour, infos] of await rawObjectsByHour(store)) if (!wanted || wanted.has(hour)) for (const info of infos) add(hour, info);
  return out;
}

/** The manifests of the given raw hours (closed hours have one; one that is not JSON is an Error), read a few at a time. */
export async function readRawManifests(store: ObjectStore, hours: readonly HourId[]): Promise<Map<HourId, HourManifest | Error>> {
  const out = new Map<HourId, HourManifest | Error>();
  const queue = [...hours];
  await Promise.all(
    Array.from({ length: Math.min(16, queue.length) }, async () => {
      for (let hour = queue.shift(); hour !== undefined; hour = queue.shift()) {
        try {
          const manifest = await getJson<HourManifest>(store, manifestKey(hour));
          // A JSON object that is not ours (no file list) promises nothing.
          if (manifest && Array.isArray(manifest.files) && typeof manifest.records === 'number') out.set(hour, manifest);
        } catch (error) {
          out.set(hour, error instanceof Error ? error : new Error(String(error)));
        }
      }
    }),
  );
  return out;
}
