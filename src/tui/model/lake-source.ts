import { getJson, type ObjectInfo, type ObjectStore } from '../../lake/store.ts';
import { hourOfKey, isHourId, rawHourPrefix, manifestKey, STATE, type HourId, type HourManifest } from '../../lake/layout.ts';
import { errorMessage } from '../../errors.ts';
import { sanitize } from '../sanitize.ts';
import { buildLakeGrid, gridHours, type EtlHourInfo, type RawHourInfo } from './lake-grid.ts';
import type { PaneSource } from './sources.ts';
import type { EtlState, JobView, LakeView } from './types.ts';

/** Lists what the lake holds for the given raw hours. */
export type RawHourLister = (store: ObjectStore, hours: readonly HourId[]) => Promise<RawHourInfo[]>;
/** Reads the ETL's per-hour state. */
export type EtlStateReader = (store: ObjectStore) => Promise<Map<HourId, EtlHourInfo>>;

export interface LakeSourceOptions {
  store: ObjectStore;
  jobs: () => Promise<JobView[]>;
  streaming: () => Promise<boolean>;
  graceMs: number;
  listRawHours?: RawHourLister;
  readEtlState?: EtlStateReader;
  now?: () => number;
}

/**
 * The Lake pane's source: raw objects per hour of the last 24 (through the ObjectStore, so a
 * local folder and S3 work alike), the ETL's state, and the jobs working on hours.
 */
export class LakeSource implements PaneSource<LakeView> {
  private readonly now: () => number;

  constructor(private readonly options: LakeSourceOptions) {
    this.now = options.now ?? Date.now;
  }

  async fetch(): Promise<LakeView> {
    const nowMs = this.now();
    const hours = gridHours(nowMs);
    const o = this.options;
    const [raw, etl, jobs, streaming] = await Promise.all([
      (o.listRawHours ?? listRawHoursByPrefix)(o.store, hours),
      (o.readEtlState ?? readEtlStateFiles)(o.store),
      o.jobs(),
      o.streaming(),
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
      }),
    };
  }
}

// Manifests do not change once written (a re-close rewrites them: the size or mtime changes).
const manifestCache = new Map<string, { stamp: string; manifest: HourManifest | undefined }>();

/**
 * Raw hours by listing `raw/YYYY/MM/DD/HH/` for each hour: files (not `_`/`.`-prefixed), bytes,
 * and records from the manifest when the hour is closed, else from the deterministic object
 * names `<writer>-<first>-<last>.*` (last - first + 1), else unknown.
 */
export async function listRawHoursByPrefix(store: ObjectStore, hours: readonly HourId[]): Promise<RawHourInfo[]> {
  return Promise.all(
    hours.map(async (hour) => {
      const objects: ObjectInfo[] = [];
      let manifestInfo: ObjectInfo | undefined;
      for await (const info of store.list(rawHourPrefix(hour))) {
        const name = info.key.slice(info.key.lastIndexOf('/') + 1);
        if (info.key === manifestKey(hour)) manifestInfo = info;
        else if (!name.startsWith('_') && !name.startsWith('.')) objects.push(info);
      }
      const manifest = manifestInfo ? await cachedManifest(store, manifestInfo) : undefined;
      const bytes = objects.reduce((sum, o) => sum + o.size, 0);
      let records: number | undefined = typeof manifest?.records === 'number' ? manifest.records : undefined;
      if (records === undefined) {
        let sum = 0;
        for (const o of objects) {
          const m = /-(\d+)-(\d+)\.[^/]*$/.exec(o.key);
          if (!m) {
            sum = NaN;
            break;
          }
          sum += Number(m[2]) - Number(m[1]) + 1;
        }
        if (Number.isFinite(sum) && objects.length > 0) records = sum;
      }
      return { hour, files: objects.length, bytes, closed: manifestInfo !== undefined, ...(records !== undefined ? { records } : {}) };
    }),
  );
}

async function cachedManifest(store: ObjectStore, info: ObjectInfo): Promise<HourManifest | undefined> {
  const stamp = `${store.url}|${info.size}|${info.mtimeMs}`;
  const hit = manifestCache.get(info.key + stamp);
  if (hit) return hit.manifest;
  let manifest: HourManifest | undefined;
  try {
    manifest = await getJson<HourManifest>(store, info.key);
  } catch {
    manifest = undefined; // unreadable manifest: the hour still shows, records unknown
  }
  if (manifestCache.size > 500) manifestCache.clear();
  manifestCache.set(info.key + stamp, { stamp, manifest });
  return manifest;
}

const etlCache = new Map<string, { stamp: string; entries: Array<[HourId, EtlHourInfo]> }>();

/**
 * The ETL's per-hour state from `_state/etl/`, read defensively: any JSON object there that names
 * an hour (in its key, or an `hour`/`arrival_hour` field, or an `hours` map or list) and a state
 * (`state`/`status`, or a `processedAt`-like time meaning done, or an `error` meaning failed).
 */
export async function readEtlStateFiles(store: ObjectStore): Promise<Map<HourId, EtlHourInfo>> {
  const out = new Map<HourId, EtlHourInfo>();
  for await (const info of store.list(`${STATE}/etl/`)) {
    if (!info.key.endsWith('.json')) continue;
    const stamp = `${store.url}|${info.size}|${info.mtimeMs}`;
    let cached = etlCache.get(info.key);
    if (!cached || cached.stamp !== stamp) {
      let value: unknown;
      try {
        value = await getJson<unknown>(store, info.key);
      } catch (error) {
        value = { error: `unreadable ETL state ${info.key}: ${errorMessage(error)}` };
      }
      cached = { stamp, entries: etlEntries(info.key, value) };
      if (etlCache.size > 2000) etlCache.clear();
      etlCache.set(info.key, cached);
    }
    for (const [hour, state] of cached.entries) out.set(hour, state);
  }
  return out;
}

/** Extracts hour states from one ETL state document (exported for tests). */
export function etlEntries(key: string, value: unknown): Array<[HourId, EtlHourInfo]> {
  if (!isObject(value)) return [];
  const out: Array<[HourId, EtlHourInfo]> = [];
  const hoursField = value.hours;
  if (Array.isArray(hoursField)) {
    for (const item of hoursField) {
      if (isObject(item)) {
        const hour = hourIn(item);
        const info = stateIn(item);
        if (hour && info) out.push([hour, info]);
      }
    }
  } else if (isObject(hoursField)) {
    for (const [hour, item] of Object.entries(hoursField)) {
      const info = isObject(item) ? stateIn(item) : typeof item === 'string' ? stateIn({ state: item }) : undefined;
      if (isHourId(hour) && info) out.push([hour, info]);
    }
  }
  const hour = hourIn(value) ?? hourInKey(key);
  const info = stateIn(value);
  if (hour && info) out.push([hour, info]);
  return out;
}

function hourIn(value: Record<string, unknown>): HourId | undefined {
  for (const field of ['hour', 'arrival_hour', 'arrivalHour']) {
    const v = value[field];
    if (typeof v === 'string' && isHourId(v)) return v;
  }
  return undefined;
}

function hourInKey(key: string): HourId | undefined {
  const m = /(\d{4}-\d{2}-\d{2}T\d{2})/.exec(key);
  if (m?.[1] && isHourId(m[1])) return m[1];
  return hourOfKey(key);
}

function stateIn(value: Record<string, unknown>): EtlHourInfo | undefined {
  const raw = value.state ?? value.status;
  const error = value.error ?? value.reason ?? value.message;
  const reason = typeof error === 'string' ? sanitize(error, 300) : undefined;
  if (typeof raw === 'string') {
    const state = normaliseState(raw);
    if (state) return { state, ...(state === 'failed' && reason ? { reason } : {}) };
  }
  if (typeof value.error === 'string') return { state: 'failed', ...(reason ? { reason } : {}) };
  for (const field of ['processedAt', 'processed_at', 'doneAt', 'completedAt', 'finishedAt']) {
    if (value[field] !== undefined && value[field] !== null) return { state: 'done' };
  }
  return undefined;
}

function normaliseState(raw: string): EtlState | undefined {
  const s = raw.toLowerCase();
  if (['done', 'succeeded', 'success', 'completed', 'complete', 'ok', 'processed'].includes(s)) return 'done';
  if (['running', 'started', 'in_progress', 'in-progress', 'processing'].includes(s)) return 'running';
  if (['failed', 'failure', 'error', 'errored'].includes(s)) return 'failed';
  if (['waiting', 'pending', 'queued', 'new'].includes(s)) return 'waiting';
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
