import type { DuckDBConnection } from '@duckdb/node-api';
import { openCurated, queryRows, type OpenCuratedOptions } from '../etl/curated.ts';
import { computeStats, type Stats, type TopItem } from '../etl/stats.ts';
import { MODELS, hourIdOf, hourStartMs, hoursBetween } from '../lake/layout.ts';
import type { ObjectStore } from '../lake/store.ts';
import { errorMessage } from '../errors.ts';
import { TOP_CHARTS, crossValidationSchema, modelMetricsSchema, type Count, type CrossValidation, type GroupLocation, type HourCount, type ModelMetrics, type ReportData } from './types.ts';

export interface LoadReportOptions extends OpenCuratedOptions {
  /** The build time (default: now). */
  now?: () => Date;
  /** Map cell size in degrees: group coordinates are binned to this grid (default 1°). */
  mapCellDegrees?: number;
  /** At most this many map cells, the busiest first, to keep the page small (default 2,500). */
  maxMapCells?: number;
}

/**
 * Reads everything the report shows from a lake: the ETL's statistics over the curated tables
 * (computeStats), group locations for the world map (a query over openCurated), and the newest
 * model's metrics (models/<run-id>/metrics.json, absent until a model has been trained).
 */
export async function loadReportData(store: ObjectStore, options: LoadReportOptions = {}): Promise<ReportData> {
  const connection = await openCurated(store, options);
  let stats: Stats;
  let groupLocations: GroupLocation[];
  try {
    stats = await computeStats(store, { ...options, connection });
    groupLocations = await queryGroupLocations(connection, options.mapCellDegrees ?? 1, options.maxMapCells ?? 2_500);
  } finally {
    connection.closeSync();
  }
  const { model, note } = await loadNewestModel(store);
  const crossValidation = await loadCrossValidations(store);
  return {
    ...toReportData(stats, groupLocations, model, note, (options.now?.() ?? new Date()).toISOString()),
    ...(crossValidation.length ? { crossValidation } : {}),
  };
}

/** Adapts the ETL's Stats to what the report draws (pure; exported for tests). */
export function toReportData(
  stats: Stats,
  groupLocations: GroupLocation[],
  model: ModelMetrics | null,
  modelNote: string | undefined,
  generatedAt: string,
): ReportData {
  const counts = (items: TopItem[]): Count[] => items.map((i) => ({ label: i.name, count: i.count }));
  const top = Object.fromEntries(TOP_CHARTS.map(({ key }) => [key, counts(stats.top[key])])) as ReportData['top'];
  // Country codes read best as 'US'; the stream sends both 'us' and 'US', so merge what that folds together.
  top.groupCountries = countryCodes(top.groupCountries);
  top.venueCountries = countryCodes(top.venueCountries);
  const range = stats.range;
  const { unit: activityUnit, buckets: eventsPerHour } = activity(stats.eventsPerHour.map((h) => ({ hour: h.hour, events: h.received })), range);
  const freshness = stats.freshness.slice(-MAX_FRESHNESS_HOURS);
  const done = stats.freshness.map((f) => f.etlDoneAt).filter((t): t is string => t !== undefined);
  return {
    generatedAt,
    coveredFrom: range?.firstHour ?? null,
    coveredTo: range?.lastHour ?? null,
    lastUpdate: done.length ? done.reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b)) : null,
    totals: {
      eventsReceived: stats.totals.eventsReceived,
      uniqueEvents: stats.totals.uniqueEvents,
      groups: stats.totals.groups,
      venues: stats.totals.venues,
      countries: stats.totals.countries,
      quarantined: stats.totals.quarantined,
    },
    top,
    eventsPerHour,
    activityUnit,
    statusMix: counts(stats.statusMix),
    groupLocations,
    freshness: freshness.map((f) => ({ hour: f.hour, rawArrivedAt: f.rawArrivedAt ?? null, etlDoneAt: f.etlDoneAt ?? null })),
    freshnessOmitted: stats.freshness.length - freshness.length,
    model,
    ...(modelNote ? { modelNote } : {}),
  };
}

/** Coverage up to this many hours is drawn per hour; longer, per day. */
export const MAX_HOURLY = 45 * 24;
/** The freshness chart shows at most this many of the most recent hours. */
export const MAX_FRESHNESS_HOURS = 14 * 24;

/**
 * Records per bucket over the whole covered range, zeros included (a quiet hour shows as a gap,
 * not as a skipped bar): per hour up to MAX_HOURLY hours, per day beyond (zero-filled up to
 * ten years; past that only days with data, to keep the page small).
 */
export function activity(
  perHour: HourCount[],
  range: { firstHour: string; lastHour: string } | undefined,
): { unit: 'hour' | 'day'; buckets: HourCount[] } {
  if (!range) return { unit: 'hour', buckets: [] };
  const HOUR = 3_600_000;
  const span = (hourStartMs(range.lastHour) - hourStartMs(range.firstHour)) / HOUR + 1;
  if (span <= MAX_HOURLY) {
    const byHour = new Map(perHour.map((h) => [h.hour, h.events]));
    return { unit: 'hour', buckets: hoursBetween(range.firstHour, range.lastHour).map((hour) => ({ hour, events: byHour.get(hour) ?? 0 })) };
  }
  const byDay = new Map<string, number>();
  for (const h of perHour) byDay.set(`${h.hour.slice(0, 10)}T00`, (byDay.get(`${h.hour.slice(0, 10)}T00`) ?? 0) + h.events);
  const days: string[] = [];
  if (span / 24 <= 3_660) {
    for (let ms = hourStartMs(`${range.firstHour.slice(0, 10)}T00`); ms <= hourStartMs(range.lastHour); ms += 24 * HOUR) days.push(hourIdOf(ms));
  } else {
    days.push(...[...byDay.keys()].sort());
  }
  return { unit: 'day', buckets: days.map((hour) => ({ hour, events: byDay.get(hour) ?? 0 })) };
}

/** Upper-cases ISO country codes and sums entries that become equal, keeping largest first. */
export function countryCodes(rows: Count[]): Count[] {
  const merged = new Map<string, number>();
  for (const r of rows) merged.set(r.label.toUpperCase(), (merged.get(r.label.toUpperCase()) ?? 0) + r.count);
  return [...merged].map(([label, count]) => ({ label, count })).sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : 1));
}

/**
 * Unique events per group location, binned to a `cell`-degree grid (a cell's point is the mean
 * position of its groups). Coordinates outside the globe and the (0, 0) placeholder are left out.
 */
export async function queryGroupLocations(connection: DuckDBConnection, cell: number, limit: number): Promise<GroupLocation[]> {
  if (!(cell > 0)) throw new Error(`map cell size must be > 0, got ${cell}`);
  const rows = await queryRows(
    connection,
    `SELECT avg(lat) AS lat, avg(lon) AS lon, CAST(count(DISTINCT group_id) AS DOUBLE) AS groups, CAST(sum(n) AS DOUBLE) AS events
     FROM (SELECT g.group_id, g.lat, g.lon, count(*) AS n FROM events e JOIN groups g ON g.group_id = e.group_id
           WHERE g.lat BETWEEN -90 AND 90 AND g.lon BETWEEN -180 AND 180 AND NOT (g.lat = 0 AND g.lon = 0)
           GROUP BY ALL)
     GROUP BY floor(lat / ${cell}), floor(lon / ${cell})
     ORDER BY events DESC, lat, lon LIMIT ${Math.floor(limit)}`,
  );
  return rows.map((r) => ({ lat: round(Number(r.lat)), lon: round(Number(r.lon)), groups: Number(r.groups), events: Number(r.events) }));
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * The newest model's metrics: the metrics.json under models/ with the latest trainedAt.
 * A file that does not parse is skipped and named in `note`, so a bad run cannot break the page.
 */
export async function loadNewestModel(store: ObjectStore): Promise<{ model: ModelMetrics | null; note?: string }> {
  const found: ModelMetrics[] = [];
  const bad: string[] = [];
  for await (const info of store.list(`${MODELS}/`)) {
    if (!/^models\/[^/]+\/metrics\.json$/.test(info.key)) continue;
    try {
      const bytes = await store.get(info.key);
      if (!bytes) continue;
      const parsed = modelMetricsSchema.safeParse(JSON.parse(Buffer.from(bytes).toString('utf8')));
      if (parsed.success) found.push(parsed.data);
      else bad.push(`${info.key}: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    } catch (error) {
      bad.push(`${info.key}: ${errorMessage(error)}`);
    }
  }
  const time = (m: ModelMetrics): number => {
    const ms = Date.parse(m.trainedAt);
    return Number.isFinite(ms) ? ms : 0;
  };
  found.sort((a, b) => time(b) - time(a) || (a.runId < b.runId ? 1 : -1));
  const note = bad.length ? `Skipped unreadable metrics: ${bad.join('; ')}` : undefined;
  return { model: found[0] ?? null, ...(note ? { note } : {}) };
}

/**
 * The newest cross-validation of each scheme (models/_cv/<id>.json, ids sort by time), region
 * first. Files that do not parse are skipped: a bad file cannot break the page.
 */
export async function loadCrossValidations(store: ObjectStore): Promise<CrossValidation[]> {
  const newest = new Map<string, CrossValidation>();
  const keys: string[] = [];
  for await (const info of store.list(`${MODELS}/_cv/`)) if (info.key.endsWith('.json')) keys.push(info.key);
  for (const key of keys.sort().reverse()) {
    try {
      const bytes = await store.get(key);
      if (!bytes) continue;
      const parsed = crossValidationSchema.safeParse(JSON.parse(Buffer.from(bytes).toString('utf8')));
      if (parsed.success && !newest.has(parsed.data.scheme)) newest.set(parsed.data.scheme, parsed.data);
    } catch {
      // unreadable: skipped
    }
  }
  return (['region', 'group'] as const).flatMap((scheme) => newest.get(scheme) ?? []);
}
