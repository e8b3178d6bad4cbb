import { getJson, type ObjectInfo, type ObjectStore } from '../../lake/store.ts';
import { rawHourPrefix, manifestKey, type HourId, type HourManifest } from '../../lake/layout.ts';
import { isRawDataKey } from '../../lake/manifest.ts';
import { etlHourKey, type EtlHourState } from '../../etl/state.ts';
import { errorMessage } from '../../errors.ts';
import { sanitize } from '../sanitize.ts';
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
      (o.readEtlState ?? readEtlHours)(o.store, hours),
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
        if (info.key === manifestKey(hour)) manifestInfo = info;
        else if (isRawDataKey(info.key)) objects.push(info);
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

/**
 * The ETL's state for the given hours, from its per-hour records (src/etl/state.ts:
 * `_state/etl/hours/<hour>.json`). Only the grid's hours are read, so the cost stays flat
 * however many hours the lake holds. A record that cannot be read marks its hour failed with why.
 */
export async function readEtlHours(store: ObjectStore, hours: readonly HourId[]): Promise<Map<HourId, EtlHourInfo>> {
  const out = new Map<HourId, EtlHourInfo>();
  await Promise.all(
    hours.map(async (hour) => {
      let state: Partial<EtlHourState> | undefined;
      try {
        state = await getJson<Partial<EtlHourState>>(store, etlHourKey(hour));
      } catch (error) {
        out.set(hour, { state: 'failed', reason: sanitize(`unreadable ETL state: ${errorMessage(error)}`, 300) });
        return;
      }
      if (state?.status === 'done') out.set(hour, { state: 'done' });
      else if (state?.status === 'failed') out.set(hour, { state: 'failed', ...(state.error ? { reason: sanitize(state.error, 300) } : {}) });
    }),
  );
  return out;
}
