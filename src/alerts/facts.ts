import type { EtlHourState } from '../etl/state.ts';
import { hourIdOf, hourStartMs, manifestKey, rawHourPrefix, type HourId } from '../lake/layout.ts';
import { isRawDataKey } from '../lake/manifest.ts';
import type { ObjectStore } from '../lake/store.ts';
import { etlByHour, readScheduleState } from '../schedule/state.ts';
import type { TelemetrySource } from '../telemetry/telemetry.ts';
import type { AlertFacts, AlertJob, ComponentStats, HourFacts } from './rules.ts';

/** The components whose stats the rules read: the streamer and the lander. */
export type StatsComponent = 'stream' | 'land';

/** The newest stats record of a component at or after `sinceMs`. */
export type LatestStats = (component: StatsComponent, sinceMs: number) => Promise<ComponentStats | undefined>;

export interface FactSources {
  store: ObjectStore;
  latestStats: LatestStats;
  /** Jobs of every runner, newest first. */
  jobs: () => Promise<AlertJob[]>;
  /** How many hours back (config alerts.lookbackHours). */
  lookbackHours: number;
  now?: () => number;
}

/**
 * Gathers what the alert rules look at: the lookback window's raw hours (one listing per hour
 * folder, so the cost follows the window, not the lake), their ETL state (read as the scheduler
 * reads it), the scheduler's retries, the newest streamer and lander stats, and the jobs of the
 * window.
 */
export async function gatherFacts(sources: FactSources): Promise<AlertFacts> {
  const nowMs = (sources.now ?? Date.now)();
  const sinceMs = nowMs - sources.lookbackHours * 3_600_000;
  const current = hourStartMs(hourIdOf(nowMs));
  const hours = Array.from({ length: sources.lookbackHours }, (_, i) => hourIdOf(current - (sources.lookbackHours - 1 - i) * 3_600_000));
  const [facts, schedule, stream, lander, jobs] = await Promise.all([
    etlByHour(sources.store).then((etl) => Promise.all(hours.map((hour) => hourFacts(sources.store, hour, etl.get(hour))))),
    readScheduleState(sources.store),
    sources.latestStats('stream', sinceMs),
    sources.latestStats('land', sinceMs),
    sources.jobs(),
  ]);
  return {
    nowMs,
    hours: facts,
    ...(stream ? { stream } : {}),
    ...(lander ? { lander } : {}),
    jobs: jobs.filter((j) => Date.parse(j.createdAt) >= sinceMs),
    retries: schedule.retries,
  };
}

async function hourFacts(store: ObjectStore, hour: HourId, etl: EtlHourState | undefined): Promise<HourFacts> {
  const prefix = rawHourPrefix(hour);
  const facts: HourFacts = { hour, files: 0, newestMtimeMs: 0, closed: false };
  for await (const info of store.list(prefix)) {
    if (info.key.slice(prefix.length).includes('/')) continue;
    if (info.key === manifestKey(hour)) facts.closed = true;
    else if (isRawDataKey(info.key)) {
      facts.files++;
      facts.newestMtimeMs = Math.max(facts.newestMtimeMs, info.mtimeMs);
    }
  }
  if (etl) {
    const { status, error, startedAt, rawNewestMtimeMs, rawRecords, quarantined } = etl;
    facts.etl = { status, ...(error ? { error } : {}), startedAt, rawNewestMtimeMs, rawRecords, quarantined };
  }
  return facts;
}

/** The newest stats of a component as a telemetry source has them (the `alerts` command). */
export function statsFromTelemetry(source: TelemetrySource): LatestStats {
  return async (component, sinceMs) => {
    const [record] = await source.read({ component, kind: 'stats', sinceMs, limit: 1 });
    const atMs = record ? Date.parse(record.ts) : NaN;
    return record && Number.isFinite(atMs) ? { atMs, data: record.data ?? {} } : undefined;
  };
}
