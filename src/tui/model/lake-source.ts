import { stat } from 'node:fs/promises';
import { getJson, type ObjectInfo, type ObjectStore } from '../../lake/store.ts';
import { hourOfKey, rawHourPrefix, manifestKey, type HourId, type HourManifest } from '../../lake/layout.ts';
import { isRawDataKey } from '../../lake/manifest.ts';
import { readHourStates } from '../../etl/state.ts';
import { errorMessage } from '../../errors.ts';
import { sanitize } from '../../text.ts';
import { buildLakeGrid, gridHours, type EtlHourInfo, type RawHourInfo } from './lake-grid.ts';
import type { PaneSource } from './sources.ts';
import type { JobView, LakeView } from './types.ts';

/** Lists what the lake holds for the given raw hours. */
export type RawHourLister = (store: ObjectStore, hours: readonly HourId[]) => Promise<RawHourInfo[]>;
/** Reads the ETL's per-hour state. */
export type EtlStateReader = (store: ObjectStore, hours: readonly HourId[]) => Promise<Map<HourId, EtlHourInfo>>;

export interface LakeSourceOptions {
  store: ObjectStore;
  jobs: () => Promise<JobView[]>;
  streaming: () => Promise<boolean>;
  graceMs: number;
  /** Records the streamer holds that are in no object yet (see StreamView.inFlight); they fill the current hour. */
  inFlight?: () => Promise<number | undefined>;
  listRawHours?: RawHourLister;
  readEtlState?: EtlStateReader;
  /** Fetch no more often than this (a remote lake: each fetch is a few LIST requests). */
  intervalMs?: number;
  now?: () => number;
}

/**
 * The Lake pane's source: raw objects per hour of the last 24 (through the ObjectStore, so a
 * local folder and S3 work alike), the ETL's state, and the jobs working on hours.
 */
export class LakeSource implements PaneSource<LakeView> {
  private readonly now: () => number;
  readonly intervalMs: number | undefined;

  constructor(private readonly options: LakeSourceOptions) {
    this.now = options.now ?? Date.now;
    this.intervalMs = options.intervalMs;
  }

  async fetch(): Promise<LakeView> {
    const nowMs = this.now();
    const hours = gridHours(nowMs);
    const o = this.options;
    const [raw, etl, jobs, streaming, inFlight] = await Promise.all([
      (o.listRawHours ?? rawHourLister(o.store))(o.store, hours),
      (o.readEtlState ?? readEtlHours)(o.store, hours),
      o.jobs(),
      o.streaming(),
      // Only a hint: the telemetry being unreachable must not take the lake pane down with it.
      o.inFlight?.().catch(() => undefined),
    ]);
    return {
      url: o.store.url,
      hours: buildLakeGrid({
        nowMs,
        raw: new Map(raw.map((r) => [r.hour, r])),
        etl,
        jobs,
        graceMs: o.graceMs,
        streaming,
        ...(inFlight ? { inFlight } : {}),
      }),
    };
  }
}

/**
 * The lister that suits the store. A folder lake reads a closed hour's `_manifest.json` and lists
 * only open hours (listing every hour each second would stat every raw object of the day); a
 * remote lake (S3) lists the grid's days instead: two or three LIST pages a refresh rather than
 * 24 GETs and LISTs, each a request that costs time and money.
 */
export function rawHourLister(store: ObjectStore): RawHourLister {
  return store.localPath('.') === undefined ? listRawHoursByDay : listRawHoursByPrefix;
}

/**
 * Raw hours of the grid from a folder lake. A closed hour is read from its `_manifest.json` (one
 * small read, no listing; its arrival times are listed once per manifest); an open one by listing
 * `raw/YYYY/MM/DD/HH/`: files (not `_`/`.`-prefixed), bytes, arrival times, and records from the
 * deterministic object names `<writer>-<first>-<last>.*` (last - first + 1), else unknown.
 */
export async function listRawHoursByPrefix(store: ObjectStore, hours: readonly HourId[]): Promise<RawHourInfo[]> {
  return Promise.all(
    hours.map(async (hour): Promise<RawHourInfo> => {
      // A closed hour is read again only when its manifest file changes: one stat a refresh, not a read and a parse.
      const file = store.localPath(manifestKey(hour));
      const stamp = file ? await stat(file).then((s) => `${s.mtimeMs}|${s.size}`, () => undefined) : undefined;
      const cacheKey = `${store.url}|${hour}|${stamp}`;
      const cached = stamp ? closedCache.get(cacheKey) : undefined;
      if (cached) return cached;
      let manifest: HourManifest | undefined;
      try {
        manifest = await getJson<HourManifest>(store, manifestKey(hour));
      } catch {
        manifest = undefined; // unreadable manifest: list the hour instead
      }
      if (manifest && Array.isArray(manifest.files)) {
        const info: RawHourInfo = {
          hour,
          files: manifest.files.length,
          bytes: typeof manifest.bytes === 'number' ? manifest.bytes : manifest.files.reduce((n, f) => n + (f.bytes ?? 0), 0),
          closed: true,
          ...(typeof manifest.records === 'number' ? { records: manifest.records } : {}),
          ...arrivals(await rawObjects(store, rawHourPrefix(hour))),
        };
        return stamp ? remember(closedCache, cacheKey, info) : info;
      }
      return { ...summarise(hour, await rawObjects(store, rawHourPrefix(hour))), closed: false };
    }),
  );
}

/**
 * Raw hours of the grid from a remote lake, by listing each day of the grid once: objects per
 * hour with their sizes and arrival times, and whether the hour has its manifest. A closed hour's
 * record count comes from its manifest, read again only when the manifest object changes.
 */
export async function listRawHoursByDay(store: ObjectStore, hours: readonly HourId[]): Promise<RawHourInfo[]> {
  const byHour = new Map<HourId, { objects: ObjectInfo[]; manifest?: ObjectInfo }>(hours.map((h) => [h, { objects: [] }]));
  const days = [...new Set(hours.map((h) => rawHourPrefix(h).slice(0, -3)))];
  await Promise.all(
    days.map(async (day) => {
      for await (const info of store.list(day)) {
        const entry = byHour.get(hourOfKey(info.key) ?? '');
        if (!entry) continue;
        if (info.key.endsWith('/_manifest.json')) entry.manifest = info;
        else if (isRawDataKey(info.key)) entry.objects.push(info);
      }
    }),
  );
  return Promise.all(
    hours.map(async (hour): Promise<RawHourInfo> => {
      const { objects, manifest } = byHour.get(hour)!;
      const info = summarise(hour, objects);
      if (!manifest) return { ...info, closed: false };
      const records = await manifestRecords(store, manifest);
      return { ...info, closed: true, ...(records !== undefined ? { records } : {}) };
    }),
  );
}

async function rawObjects(store: ObjectStore, prefix: string): Promise<ObjectInfo[]> {
  const objects: ObjectInfo[] = [];
  for await (const info of store.list(prefix)) if (isRawDataKey(info.key)) objects.push(info);
  return objects;
}

/** Files, bytes, arrival times, and records from the deterministic object names (unknown if any name is not one). */
function summarise(hour: HourId, objects: readonly ObjectInfo[]): Omit<RawHourInfo, 'closed'> {
  let records = 0;
  for (const o of objects) {
    const m = /-(\d+)-(\d+)\.[^/]*$/.exec(o.key);
    if (!m) {
      records = NaN;
      break;
    }
    records += Number(m[2]) - Number(m[1]) + 1;
  }
  return {
    hour,
    files: objects.length,
    bytes: objects.reduce((sum, o) => sum + o.size, 0),
    ...(Number.isFinite(records) && objects.length > 0 ? { records } : {}),
    ...arrivals(objects),
  };
}

function arrivals(objects: readonly ObjectInfo[]): Pick<RawHourInfo, 'firstArrivalMs' | 'lastArrivalMs'> {
  if (objects.length === 0) return {};
  const times = objects.map((o) => o.mtimeMs).filter(Number.isFinite);
  return times.length ? { firstArrivalMs: Math.min(...times), lastArrivalMs: Math.max(...times) } : {};
}

/** Small caches keyed by what would change with the object, so an unchanged lake costs no reads. */
/** A folder lake's closed hours, by manifest file (mtime and size). */
const closedCache = new Map<string, RawHourInfo>();
const manifestCache = new Map<string, number | undefined>();

function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size > 1000) cache.clear();
  cache.set(key, value);
  return value;
}

/** A manifest's record count, read again only when the manifest object changes; undefined when unreadable. */
async function manifestRecords(store: ObjectStore, info: ObjectInfo): Promise<number | undefined> {
  const key = `${store.url}|${info.key}|${info.etag ?? ''}|${info.size}|${info.mtimeMs}`;
  if (manifestCache.has(key)) return manifestCache.get(key);
  let records: number | undefined;
  try {
    const manifest = await getJson<HourManifest>(store, info.key);
    records = typeof manifest?.records === 'number' ? manifest.records : undefined;
  } catch {
    records = undefined; // the listing still says what the hour holds
  }
  return remember(manifestCache, key, records);
}

/**
 * The ETL's state for the given hours (src/etl/state.ts: one document per month), so the cost stays
 * flat however many hours the lake holds. A document that cannot be read marks its hours failed with why.
 */
export async function readEtlHours(store: ObjectStore, hours: readonly HourId[]): Promise<Map<HourId, EtlHourInfo>> {
  const out = new Map<HourId, EtlHourInfo>();
  for (const month of new Set(hours.map((h) => h.slice(0, 7)))) {
    const inMonth = hours.filter((h) => h.startsWith(month));
    try {
      for (const [hour, state] of await readHourStates(store, inMonth)) {
        if (state.status === 'done') out.set(hour, { state: 'done' });
        else if (state.status === 'failed') out.set(hour, { state: 'failed', ...(state.error ? { reason: sanitize(state.error, 300) } : {}) });
      }
    } catch (error) {
      for (const hour of inMonth) out.set(hour, { state: 'failed', reason: sanitize(`unreadable ETL state: ${errorMessage(error)}`, 300) });
    }
  }
  return out;
}
