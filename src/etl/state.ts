import { getJson, listAll, putJson, type ObjectStore } from '../lake/store.ts';
import { STATE, type HourId } from '../lake/layout.ts';
import { ENGINE_NAMES } from '../config/schema.ts';

/**
 * Where the ETL keeps its bookkeeping: what happened to each hour (one document per month, so a
 * year is 12 small reads, not 8,760) and a summary of the last run. Which rows the curated tables
 * hold is not here but in the table manifest (segments.ts), committed with the data.
 */
export const ETL_STATE = `${STATE}/etl`;
const HOURS_DIR = `${ETL_STATE}/hours`;
/** The state document of a month ('YYYY-MM'). */
export const etlMonthKey = (month: string): string => `${HOURS_DIR}/${month}.json`;
/** A per-hour state record as earlier versions wrote them (still read; folded into the month document on the next write). */
export const etlHourKey = (hour: HourId): string => `${HOURS_DIR}/${hour}.json`;
export const ETL_LAST_RUN = `${ETL_STATE}/last-run.json`;

/** The engines an ETL run can use (config `etl.engine`; the names are ENGINE_NAMES in config/schema.ts). */
export type EngineName = (typeof ENGINE_NAMES)[number];

/** What the ETL recorded about one arrival hour (the latest attempt). */
export interface EtlHourState {
  hour: HourId;
  status: 'done' | 'failed';
  engine: EngineName;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Raw objects and bytes the run read, and the newest object's modification time (ms). */
  rawObjects: number;
  rawBytes: number;
  rawNewestMtimeMs: number;
  rawRecords: number;
  validRecords: number;
  quarantined: number;
  /** Why the hour failed (status 'failed'). */
  error?: string;
}

/** A summary of the last `etl` run. */
export interface EtlRunSummary {
  engine: EngineName;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  hours: HourId[];
  failed: HourId[];
  rawRecords: number;
  validRecords: number;
  quarantined: number;
}

export interface EtlState {
  /** Every hour the ETL has seen, oldest first. */
  hours: EtlHourState[];
  lastRun: EtlRunSummary | undefined;
}

interface MonthDoc {
  month: string;
  hours: Record<HourId, EtlHourState>;
}

const MONTH_FILE = /\/(\d{4}-\d{2})\.json$/;
const HOUR_FILE = /\/(\d{4}-\d{2}-\d{2}T\d{2})\.json$/;

/** Reads the ETL state of a lake (empty when the ETL has never run). */
export async function readEtlState(store: ObjectStore): Promise<EtlState> {
  const byHour = await readStates(store, `${HOURS_DIR}/`);
  const hours = [...byHour.values()].sort((a, b) => (a.hour < b.hour ? -1 : a.hour > b.hour ? 1 : 0));
  return { hours, lastRun: await getJson<EtlRunSummary>(store, ETL_LAST_RUN) };
}

/**
 * The state of the given hours only: one listing and one document per month they fall in, so
 * the cost follows the hours asked for (the monitor's 24-hour grid), not the lake's age.
 */
export async function readHourStates(store: ObjectStore, hours: readonly HourId[]): Promise<Map<HourId, EtlHourState>> {
  const wanted = new Set(hours);
  const out = new Map<HourId, EtlHourState>();
  for (const month of new Set(hours.map((h) => h.slice(0, 7)))) {
    for (const [hour, state] of await readStates(store, `${HOURS_DIR}/${month}`)) if (wanted.has(hour)) out.set(hour, state);
  }
  return out;
}

/**
 * Month documents and per-hour records under a prefix; a month document wins over a per-hour
 * record. With `skipDamaged`, a per-hour record that does not parse is passed over (it is being replaced).
 */
async function readStates(store: ObjectStore, prefix: string, skipDamaged = false): Promise<Map<HourId, EtlHourState>> {
  const out = new Map<HourId, EtlHourState>();
  const legacy: string[] = [];
  for (const info of await listAll(store, prefix)) {
    if (MONTH_FILE.test(info.key)) {
      const doc = await getJson<MonthDoc>(store, info.key);
      for (const state of Object.values(doc?.hours ?? {})) out.set(state.hour, state);
    } else if (HOUR_FILE.test(info.key)) legacy.push(info.key);
  }
  for (const key of legacy) {
    const state = await getJson<EtlHourState>(store, key).catch((error: unknown) => {
      if (skipDamaged) return undefined;
      throw error;
    });
    if (state?.hour && !out.has(state.hour)) out.set(state.hour, state);
  }
  return out;
}

/**
 * Records the latest attempt of each hour: one read-modify-write of each month document touched
 * (per-hour records of earlier versions in those months are folded in and removed).
 */
export async function writeHourStates(store: ObjectStore, states: readonly EtlHourState[]): Promise<void> {
  const byMonth = new Map<string, EtlHourState[]>();
  for (const s of states) byMonth.set(s.hour.slice(0, 7), [...(byMonth.get(s.hour.slice(0, 7)) ?? []), s]);
  for (const [month, list] of byMonth) {
    const current = await readStates(store, `${HOURS_DIR}/${month}`, true);
    for (const s of list) current.set(s.hour, s);
    const hours = Object.fromEntries([...current.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
    await putJson(store, etlMonthKey(month), { month, hours } satisfies MonthDoc);
    for (const info of await listAll(store, `${HOURS_DIR}/${month}-`)) if (HOUR_FILE.test(info.key)) await store.delete(info.key);
  }
}

export async function writeRunSummary(store: ObjectStore, summary: EtlRunSummary): Promise<void> {
  await putJson(store, ETL_LAST_RUN, summary);
}
