import { hourStartMs, type HourId } from '../lake/layout.ts';

/** How the scheduler works: its interval, when an hour counts as closed, and how it retries. */
export interface ScheduleSettings {
  /** Time between ticks; under an hour, each tick also refreshes the hours still open. */
  everyMs: number;
  /** An hour is closed this long after it ended (config stream.hourGraceMs), or once it has its manifest. */
  graceMs: number;
  /** Runs of one hour before the scheduler gives up on it until its raw data changes. */
  maxAttempts: number;
  retryInitialMs: number;
  retryMaxMs: number;
}

/** What the lake holds for one raw hour. */
export interface RawHourFacts {
  hour: HourId;
  /** Modification time of its newest raw object (ms). */
  newestMtimeMs: number;
  /** Its `_manifest.json` exists (the writer closed it). */
  manifest: boolean;
}

/** What the ETL last recorded for an hour (the fields the plan needs). */
export interface EtlFacts {
  status: 'done' | 'failed';
  rawNewestMtimeMs: number;
}

/** The scheduler's memory of an hour that failed: kept until the hour is done. */
export interface RetryEntry {
  attempts: number;
  lastAttemptAtMs: number;
  /** No new attempt before this (backoff). */
  nextAttemptAtMs: number;
  /** The newest raw object's mtime when it last failed: newer raw data starts the attempts over. */
  rawNewestMtimeMs: number;
  error?: string;
  /** All attempts are used: the hour waits for new raw data or an operator (and `alerts` reports it). */
  gaveUp?: boolean;
}

export interface PlanInput {
  nowMs: number;
  raw: readonly RawHourFacts[];
  etl: ReadonlyMap<HourId, EtlFacts>;
  retries: Readonly<Record<HourId, RetryEntry>>;
  settings: ScheduleSettings;
}

/** What one tick should do. */
export interface TickPlan {
  /** Every hour to run now, oldest first: the closed ones and (interval under an hour) the open ones. */
  run: HourId[];
  /** Of those, the hours still open (refreshed; they run again as they fill). */
  open: HourId[];
  /** Failed hours whose next attempt is not due yet. */
  waiting: Array<{ hour: HourId; untilMs: number; attempts: number }>;
  /** Failed hours the scheduler no longer retries. */
  gaveUp: HourId[];
}

/**
 * Plans a tick: every raw hour not yet processed (never done, failed, or with raw objects newer
 * than its last run), oldest first. Closed hours — with a manifest, or ended more than the grace
 * ago — always; hours still open only when the interval is under an hour (the refresh that makes
 * fresh data queryable within one interval; rerunning an hour replaces its rows, so it is safe).
 * A failed hour waits out its backoff and is given up after `maxAttempts`, until new raw data
 * arrives for it.
 */
export function planTick(input: PlanInput): TickPlan {
  const { nowMs, settings } = input;
  const refreshOpen = settings.everyMs < 3_600_000;
  const plan: TickPlan = { run: [], open: [], waiting: [], gaveUp: [] };
  for (const raw of [...input.raw].sort((a, b) => (a.hour < b.hour ? -1 : 1))) {
    const closed = raw.manifest || hourStartMs(raw.hour) + 3_600_000 + settings.graceMs <= nowMs;
    if (!closed && !refreshOpen) continue;
    const etl = input.etl.get(raw.hour);
    if (etl?.status === 'done' && raw.newestMtimeMs <= etl.rawNewestMtimeMs) continue;
    const retry = input.retries[raw.hour];
    if (retry && raw.newestMtimeMs <= retry.rawNewestMtimeMs) {
      if (retry.gaveUp || retry.attempts >= settings.maxAttempts) {
        plan.gaveUp.push(raw.hour);
        continue;
      }
      if (retry.nextAttemptAtMs > nowMs) {
        plan.waiting.push({ hour: raw.hour, untilMs: retry.nextAttemptAtMs, attempts: retry.attempts });
        continue;
      }
    }
    plan.run.push(raw.hour);
    if (!closed) plan.open.push(raw.hour);
  }
  return plan;
}

/** The wait before attempt `attempts + 1` of a failed hour: doubling from retryInitialMs, capped at retryMaxMs. */
export function retryDelayMs(attempts: number, settings: Pick<ScheduleSettings, 'retryInitialMs' | 'retryMaxMs'>): number {
  return Math.min(settings.retryMaxMs, settings.retryInitialMs * 2 ** Math.max(0, attempts - 1));
}

/**
 * When the next tick is due: the next multiple of the interval, shifted by the grace so an
 * hourly scheduler runs just after each hour closes (HH:05 with the default grace), or a
 * failed hour's retry if that comes first.
 */
export function nextTickAtMs(nowMs: number, settings: Pick<ScheduleSettings, 'everyMs' | 'graceMs'>, retryAtMs?: number): number {
  const offset = settings.graceMs % settings.everyMs;
  const next = Math.floor((nowMs - offset) / settings.everyMs) * settings.everyMs + offset + settings.everyMs;
  return retryAtMs !== undefined && retryAtMs > nowMs && retryAtMs < next ? retryAtMs : next;
}

