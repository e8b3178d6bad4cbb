import { readEtlState, type EtlHourState } from '../etl/state.ts';
import { STATE, type HourId } from '../lake/layout.ts';
import { getJson, putJson, type ObjectStore } from '../lake/store.ts';
import type { RetryEntry } from './plan.ts';

/** The scheduler's state in the lake: the hours it is retrying and what its last tick did. */
export const SCHEDULE_STATE = `${STATE}/schedule/state.json`;

/** The lease every scheduler of a lake takes for a tick: one tick at a time, so no hour runs twice. */
export const SCHEDULE_LEASE = 'schedule';

/** What one tick did (kept as `lastTick`, printed by `schedule`, shown by `alerts`). */
export interface TickSummary {
  /** When the tick started (ISO). */
  at: string;
  /** Who ran it: "pid 4242 on host box". */
  by: string;
  /** Hours handed to the ETL, oldest first; of those, the ones still open. */
  ran: HourId[];
  open: HourId[];
  done: HourId[];
  failed: Array<{ hour: HourId; error: string; attempts: number; gaveUp: boolean; nextAttemptAt?: string }>;
  /** Failed hours waiting for their next attempt, and those given up. */
  waiting: number;
  gaveUp: HourId[];
  /** The job that ran the ETL. */
  jobId?: string;
  durationMs: number;
}

export interface ScheduleState {
  /** Hours whose last run failed, until they are done. */
  retries: Record<HourId, RetryEntry>;
  lastTick?: TickSummary;
}

/** The scheduler's state (empty when no scheduler ever ran on this lake). */
export async function readScheduleState(store: ObjectStore): Promise<ScheduleState> {
  const state = await getJson<Partial<ScheduleState>>(store, SCHEDULE_STATE);
  return { retries: state?.retries ?? {}, ...(state?.lastTick ? { lastTick: state.lastTick } : {}) };
}

/** Written only under the schedule lease (one writer at a time). */
export async function writeScheduleState(store: ObjectStore, state: ScheduleState): Promise<void> {
  await putJson(store, SCHEDULE_STATE, state);
}

/** The ETL's record of every hour it has seen, by hour (what the scheduler plans from and `alerts` judges). */
export async function etlByHour(store: ObjectStore): Promise<Map<HourId, EtlHourState>> {
  return new Map((await readEtlState(store)).hours.map((h) => [h.hour, h]));
}
