import { promises as fs } from 'node:fs';
import { rawObjectsByHour } from '../lake/hours.ts';
import { manifestKey, rawHourPrefix, type HourId, type HourManifest } from '../lake/layout.ts';
import { isRawDataKey } from '../lake/manifest.ts';
import { localFiles, type CacheOptions } from '../lake/object-cache.ts';
import { getJson, listAll, type ObjectInfo, type ObjectStore } from '../lake/store.ts';
import type { RawInput } from './engine.ts';

/** Above this many hours asked for, one listing of raw/ is cheaper than a listing per hour. */
const PER_HOUR_LISTING = 200;

/**
 * The raw objects the ETL reads, by hour (all raw hours, or only `hours`): the one place the
 * engines' input is listed. Objects of a local lake carry their file path, so engines read them
 * in place; an engine that reads files gets a remote lake's objects through `localInputs`, an
 * engine on the cluster (EMR) reads them where they are.
 */
export async function listRawInputs(store: ObjectStore, hours?: readonly HourId[]): Promise<Map<HourId, RawInput[]>> {
  const out = new Map<HourId, RawInput[]>();
  const add = (hour: HourId, info: ObjectInfo): void => {
    const path = store.localPath(info.key);
    const input: RawInput = { hour, key: info.key, size: info.size, mtimeMs: info.mtimeMs, ...(info.etag ? { etag: info.etag } : {}), ...(path ? { path } : {}) };
    out.set(hour, [...(out.get(hour) ?? []), input]);
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

/**
 * The inputs with a local file each, for an engine that reads files: a local lake's own paths; an
 * s3:// lake's objects through the lake's object cache (lake/object-cache.ts: the listed version,
 * `If-Match`, a few downloads at a time). An input whose object is gone since the listing keeps
 * no path (the engine fails its hour).
 */
export async function localInputs(store: ObjectStore, inputs: readonly RawInput[], cache: CacheOptions = {}): Promise<RawInput[]> {
  const files = await localFiles(store, inputs.map(objectOf), cache);
  return inputs.map((input, i) => (files[i] !== undefined ? { ...input, path: files[i] } : input));
}

/**
 * Removes the cached copies (`localInputs`' paths) of an s3:// lake's raw inputs once an engine has read them: an hour
 * is read once (or, while open, reread with new objects), so the cache holds one batch, not the lake.
 */
export async function dropInputCopies(store: ObjectStore, inputs: readonly RawInput[]): Promise<void> {
  for (const input of inputs) if (input.path !== undefined && store.localPath(input.key) === undefined) await fs.rm(input.path, { force: true });
}

function objectOf(input: RawInput): ObjectInfo {
  return { key: input.key, size: input.size, mtimeMs: input.mtimeMs, ...(input.etag ? { etag: input.etag } : {}) };
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
