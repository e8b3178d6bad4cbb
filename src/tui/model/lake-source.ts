import { getJson, type ObjectInfo, type ObjectStore } from '../../lake/store.ts';
import { rawHourPrefix, manifestKey, type HourId, type HourManifest } from '../../lake/layout.ts';
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
