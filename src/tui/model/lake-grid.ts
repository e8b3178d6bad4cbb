import { hourIdOf, hourStartMs, type HourId } from '../../lake/layout.ts';
import type { EtlState, JobView, LakeHour } from './types.ts';

/** What the lake says about one raw hour. */
export interface RawHourInfo {
  hour: HourId;
  files: number;
  records?: number;
  bytes: number;
  closed: boolean;
  /** Object mtimes: the first and newest arrival. */
  firstArrivalMs?: number;
  lastArrivalMs?: number;
}

/** What the ETL state says about one hour. */
export interface EtlHourInfo {
  state: EtlState;
  reason?: string;
}

export interface LakeGridInput {
  nowMs: number;
  raw: ReadonlyMap<HourId, RawHourInfo>;
  etl: ReadonlyMap<HourId, EtlHourInfo>;
  /** Jobs, newest first: a running job marks its hour running; the newest finished one decides otherwise. */
  jobs: readonly JobView[];
  /** An hour is closed this long after its end (config stream.hourGraceMs). */
  graceMs: number;
  /** The streamer is running now: hours since its data began and without data are missing. */
  streaming: boolean;
  /** Records the streamer accepted and has not written to an object yet: they belong to the current hour. */
  inFlight?: number;
  /** Grid size (default 24). */
  count?: number;
}

/** The last `count` UTC hours ending with the current one, oldest first. */
export function gridHours(nowMs: number, count = 24): HourId[] {
  const current = hourStartMs(hourIdOf(nowMs));
  return Array.from({ length: count }, (_, i) => hourIdOf(current - (count - 1 - i) * 3_600_000));
}

/**
 * Builds the Lake pane's 24-hour grid. ETL state: a job processing the hour right now makes it
 * running; otherwise the ETL's own state; without one, the newest job that processed the hour.
 * Late: the hour ended more than `graceMs` ago, has raw data and no ETL has run on it.
 * Missing: a past hour without raw data between hours that have some (or after the first one
 * while the streamer runs): data should be there and is not. The current hour also counts what
 * the streamer holds in its open file (`inFlight`), so it fills as events arrive, not only when a
 * file rotates.
 */
export function buildLakeGrid(input: LakeGridInput): LakeHour[] {
  const hours = gridHours(input.nowMs, input.count);
  const withData = hours.filter((h) => (input.raw.get(h)?.files ?? 0) > 0);
  const first = withData[0];
  const last = withData[withData.length - 1];
  const current = hours[hours.length - 1];
  return hours.map((hour) => {
    const raw = input.raw.get(hour);
    const files = raw?.files ?? 0;
    const { state, reason } = etlStateOf(hour, input.etl.get(hour), input.jobs);
    const ended = hourStartMs(hour) + 3_600_000;
    const late = files > 0 && ended + input.graceMs < input.nowMs && state === 'waiting';
    const inFlight = hour === current && input.inFlight ? input.inFlight : 0;
    const missing =
      files === 0 &&
      hour !== current &&
      first !== undefined &&
      hour > first &&
      ((last !== undefined && hour < last) || input.streaming);
    return {
      hour,
      files,
      ...(raw?.records !== undefined ? { records: raw.records } : {}),
      bytes: raw?.bytes ?? 0,
      closed: raw?.closed ?? false,
      ...(raw?.firstArrivalMs !== undefined ? { firstArrivalMs: raw.firstArrivalMs } : {}),
      ...(raw?.lastArrivalMs !== undefined ? { lastArrivalMs: raw.lastArrivalMs } : {}),
      ...(inFlight > 0 ? { inFlight } : {}),
      etl: state,
      ...(reason ? { etlReason: reason } : {}),
      late,
      missing,
    };
  });
}

function etlStateOf(hour: HourId, etl: EtlHourInfo | undefined, jobs: readonly JobView[]): EtlHourInfo {
  // A job's step on this hour running now wins; one queued behind other hours does not.
  if (jobs.some((job) => job.hourResults?.[hour] === 'running')) return { state: 'running' };
  if (etl) return etl;
  // No ETL state for the hour: the newest job that processed it has the last word.
  for (const job of jobs) {
    const result = job.hourResults?.[hour];
    if (result === 'succeeded') return { state: 'done' };
    if (result === 'failed') return { state: 'failed', ...(job.reason ? { reason: job.reason } : {}) };
  }
  return { state: 'waiting' };
}

/** Hours `b` would backfill: processed with failure, or late (closed with raw data, never processed). */
export function backfillTargets(hours: readonly LakeHour[]): HourId[] {
  return hours.filter((h) => h.files > 0 && (h.etl === 'failed' || h.late)).map((h) => h.hour);
}
