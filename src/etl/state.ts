import { getJson, listAll, putJson, type ObjectStore } from '../lake/store.ts';
import { STATE, type HourId } from '../lake/layout.ts';

/** Where the ETL keeps its state: one JSON object per processed hour plus the last run. */
export const ETL_STATE = `${STATE}/etl`;
export const etlHourKey = (hour: HourId): string => `${ETL_STATE}/hours/${hour}.json`;
export const ETL_LAST_RUN = `${ETL_STATE}/last-run.json`;

export type EtlEngine = 'duckdb' | 'spark';

/** What the ETL recorded about one arrival hour (the latest attempt). */
export interface EtlHourState {
  hour: HourId;
  status: 'done' | 'failed';
  engine: EtlEngine;
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
  engine: EtlEngine;
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

/** Reads the ETL state of a lake (empty when the ETL has never run). */
export async function readEtlState(store: ObjectStore): Promise<EtlState> {
  const infos = await listAll(store, `${ETL_STATE}/hours/`);
  const hours: EtlHourState[] = [];
  for (const info of infos) {
    if (!info.key.endsWith('.json')) continue;
    const state = await getJson<EtlHourState>(store, info.key);
    if (state) hours.push(state);
  }
  hours.sort((a, b) => (a.hour < b.hour ? -1 : a.hour > b.hour ? 1 : 0));
  return { hours, lastRun: await getJson<EtlRunSummary>(store, ETL_LAST_RUN) };
}

export async function writeHourState(store: ObjectStore, state: EtlHourState): Promise<void> {
  await putJson(store, etlHourKey(state.hour), state);
}

export async function writeRunSummary(store: ObjectStore, summary: EtlRunSummary): Promise<void> {
  await putJson(store, ETL_LAST_RUN, summary);
}
