import { getJson, type ObjectInfo, type ObjectStore } from '../../lake/store.ts';
import { rawHourPrefix, manifestKey, type HourId, type HourManifest } from '../../lake/layout.ts';
import { isRawDataKey } from '../../lake/manifest.ts';
import { ETL_STATE, etlHourKey, type EtlHourState } from '../../etl/state.ts';
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

/**
 * Raw hours of the grid. A closed hour is read from its `_manifest.json` (one small read, no
 * listing); an open one by listing `raw/YYYY/MM/DD/HH/`: files (not `_`/`.`-prefixed), bytes, and
 * records from the deterministic object names `<writer>-<first>-<last>.*` (last - first + 1),
 * else unknown. Listing every hour each refresh would stat every raw object of the day each second.
 */
export async function listRawHoursByPrefix(store: ObjectStore, hours: readonly HourId[]): Promise<RawHourInfo[]> {
  return Promise.all(
    hours.map(async (hour): Promise<RawHourInfo> => {
      let manifest: HourManifest | undefined;
      try {
        manifest = await getJson<HourManifest>(store, manifestKey(hour));
      } catch {
        manifest = undefined; // unreadable manifest: list the hour instead
      }
      if (manifest && Array.isArray(manifest.files)) {
        return {
          hour,
          files: manifest.files.length,
          bytes: typeof manifest.bytes === 'number' ? manifest.bytes : manifest.files.reduce((n, f) => n + (f.bytes ?? 0), 0),
          closed: true,
          ...(typeof manifest.records === 'number' ? { records: manifest.records } : {}),
        };
      }
      const objects: ObjectInfo[] = [];
      for await (const info of store.list(rawHourPrefix(hour))) if (isRawDataKey(info.key)) objects.push(info);
      const bytes = objects.reduce((sum, o) => sum + o.size, 0);
      let records: number | undefined;
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
      return { hour, files: objects.length, bytes, closed: false, ...(records !== undefined ? { records } : {}) };
    }),
  );
}

const etlCache = new Map<string, { stamp: string; info: EtlHourInfo | undefined }>();

/**
 * The ETL's state for the given hours, from its per-hour records (src/etl/state.ts:
 * `_state/etl/hours/<hour>.json`). Only the grid's hours are read, so the cost stays flat
 * however many hours the lake holds. A record that cannot be read marks its hour failed with why.
 */
export async function readEtlHours(store: ObjectStore, hours: readonly HourId[]): Promise<Map<HourId, EtlHourInfo>> {
  const wanted = new Map(hours.map((h) => [etlHourKey(h), h]));
  const out = new Map<HourId, EtlHourInfo>();
  // One listing; only records that changed since the last refresh are read again.
  const infos: ObjectInfo[] = [];
  for await (const info of store.list(`${ETL_STATE}/hours/`)) if (wanted.has(info.key)) infos.push(info);
  await Promise.all(
    infos.map(async (info) => {
      const hour = wanted.get(info.key)!;
      const stamp = `${store.url}|${info.size}|${info.mtimeMs}`;
      const cached = etlCache.get(info.key);
      if (cached?.stamp === stamp) {
        if (cached.info) out.set(hour, cached.info);
        return;
      }
      let result: EtlHourInfo | undefined;
      try {
        const state = await getJson<Partial<EtlHourState>>(store, info.key);
        if (state?.status === 'done') result = { state: 'done' };
        else if (state?.status === 'failed') result = { state: 'failed', ...(state.error ? { reason: sanitize(state.error, 300) } : {}) };
      } catch (error) {
        result = { state: 'failed', reason: sanitize(`unreadable ETL state: ${errorMessage(error)}`, 300) };
      }
      if (etlCache.size > 1000) etlCache.clear();
      etlCache.set(info.key, { stamp, info: result });
      if (result) out.set(hour, result);
    }),
  );
  return out;
}
