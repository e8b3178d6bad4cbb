import type { DuckDBConnection } from '@duckdb/node-api';
import { listAll, type ObjectStore } from '../lake/store.ts';
import { QUARANTINE, RAW, hourOfKey, type HourId } from '../lake/layout.ts';
import { isRawDataKey } from '../lake/manifest.ts';
import { openCurated, queryRows, type OpenCuratedOptions } from './curated.ts';
import { readEtlState } from './state.ts';

/** One bar of a top-10 chart. */
export interface TopItem {
  name: string;
  count: number;
}

/** The dashboard's eight charts, each counted over unique (current-state) events. */
export interface TopLists {
  categories: TopItem[];
  eventNames: TopItem[];
  groupCities: TopItem[];
  groupCountries: TopItem[];
  groupNames: TopItem[];
  venueCities: TopItem[];
  venueCountries: TopItem[];
  venueNames: TopItem[];
}

export interface StatsTotals {
  /**
   * Records received, duplicates and rejects included: the raw records the ETL read (sum of
   * hours.raw_records) plus the lines quarantined on ingest, which never reach the raw lake.
   */
  eventsReceived: number;
  /** Distinct event ids (rows of the current-state events table). */
  uniqueEvents: number;
  /** Distinct (event id, mtime) versions. */
  eventChanges: number;
  groups: number;
  venues: number;
  categories: number;
  /** Distinct group countries of unique events. */
  countries: number;
  /** Every quarantined record: quarantinedOnIngest + quarantinedByEtl. */
  quarantined: number;
  /** Lines the streamer or `lake import` rejected (entries under quarantine/). */
  quarantinedOnIngest: number;
  /** Raw records the ETL rejected (sum of hours.quarantined). */
  quarantinedByEtl: number;
}

/** Per arrival hour: what arrived and what the ETL made of it. */
export interface HourStats {
  hour: HourId;
  received: number;
  valid: number;
  quarantined: number;
}

/** Per raw hour: when its newest raw object arrived and when the ETL last finished it. */
export interface HourFreshness {
  hour: HourId;
  rawObjects: number;
  /** Newest raw object's modification time (ISO), or undefined when the hour has no raw objects. */
  rawArrivedAt: string | undefined;
  etlDoneAt: string | undefined;
  etlStatus: 'done' | 'failed' | 'pending';
  /** True when raw objects are newer than the ETL's last run of the hour. */
  stale: boolean;
}

export interface Stats {
  generatedAt: string;
  totals: StatsTotals;
  top: TopLists;
  eventsPerHour: HourStats[];
  statusMix: TopItem[];
  /** Arrival hours covered and the range of event mtimes (ISO), undefined on an empty lake. */
  range: { firstHour: HourId; lastHour: HourId; firstMtime: string; lastMtime: string } | undefined;
  freshness: HourFreshness[];
}

/** The SQL of each top-10 chart over the curated views (exported so tests and the report can reuse them). */
export const TOP_SQL: Record<keyof TopLists, string> = {
  categories: topSql('c.name', 'events e JOIN groups g ON g.group_id = e.group_id JOIN categories c ON c.category_id = g.category_id'),
  eventNames: topSql('e.name', 'events e'),
  groupCities: topSql('g.city', 'events e JOIN groups g ON g.group_id = e.group_id'),
  groupCountries: topSql('g.country', 'events e JOIN groups g ON g.group_id = e.group_id'),
  groupNames: topSql('g.name', 'events e JOIN groups g ON g.group_id = e.group_id'),
  venueCities: topSql('v.city', 'events e JOIN venues v ON v.venue_key = e.venue_key'),
  venueCountries: topSql('v.country', 'events e JOIN venues v ON v.venue_key = e.venue_key'),
  venueNames: topSql('v.name', 'events e JOIN venues v ON v.venue_key = e.venue_key'),
};

function topSql(expr: string, from: string, limit = 10): string {
  return `SELECT ${expr} AS name, CAST(count(*) AS DOUBLE) AS count FROM ${from} WHERE ${expr} IS NOT NULL GROUP BY 1 ORDER BY count DESC, name ASC LIMIT ${limit}`;
}

/**
 * Computes the totals, top-10 lists, events per hour, status mix, covered range and freshness of a
 * lake from its curated tables and ETL state. Pass `connection` to reuse an open `openCurated`.
 */
export async function computeStats(
  store: ObjectStore,
  options: OpenCuratedOptions & { connection?: DuckDBConnection; now?: () => Date } = {},
): Promise<Stats> {
  const connection = options.connection ?? (await openCurated(store, options));
  try {
    const one = async (sql: string): Promise<Record<string, unknown>> => (await queryRows(connection, sql))[0] ?? {};
    const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
    const items = (rows: Array<Record<string, unknown>>): TopItem[] => rows.map((r) => ({ name: String(r.name), count: num(r.count) }));

    const t = await one(`SELECT
      (SELECT CAST(coalesce(sum(raw_records), 0) AS DOUBLE) FROM hours) AS received,
      (SELECT CAST(count(*) AS DOUBLE) FROM events) AS unique_events,
      (SELECT CAST(count(*) AS DOUBLE) FROM event_changes) AS changes,
      (SELECT CAST(count(*) AS DOUBLE) FROM groups) AS groups,
      (SELECT CAST(count(*) AS DOUBLE) FROM venues) AS venues,
      (SELECT CAST(count(*) AS DOUBLE) FROM categories) AS categories,
      (SELECT CAST(count(DISTINCT g.country) AS DOUBLE) FROM events e JOIN groups g ON g.group_id = e.group_id) AS countries,
      (SELECT CAST(coalesce(sum(quarantined), 0) AS DOUBLE) FROM hours) AS quarantined`);
    const top = {} as TopLists;
    for (const [name, sql] of Object.entries(TOP_SQL) as Array<[keyof TopLists, string]>) top[name] = items(await queryRows(connection, sql));
    const perHour = await queryRows(
      connection,
      `SELECT arrival_hour AS hour, CAST(raw_records AS DOUBLE) AS received, CAST(valid_records AS DOUBLE) AS valid, CAST(quarantined AS DOUBLE) AS quarantined FROM hours ORDER BY arrival_hour`,
    );
    const statusMix = items(
      await queryRows(connection, `SELECT coalesce(status, '(none)') AS name, CAST(count(*) AS DOUBLE) AS count FROM events GROUP BY 1 ORDER BY count DESC, name ASC`),
    );
    const r = await one(`SELECT (SELECT min(arrival_hour) FROM hours) AS first_hour, (SELECT max(arrival_hour) FROM hours) AS last_hour,
      (SELECT CAST(min(mtime) AS DOUBLE) FROM event_changes) AS first_mtime, (SELECT CAST(max(mtime) AS DOUBLE) FROM event_changes) AS last_mtime`);
    const onIngest = await countIngestQuarantine(store);
    return {
      generatedAt: (options.now?.() ?? new Date()).toISOString(),
      totals: {
        eventsReceived: num(t.received) + onIngest,
        uniqueEvents: num(t.unique_events),
        eventChanges: num(t.changes),
        groups: num(t.groups),
        venues: num(t.venues),
        categories: num(t.categories),
        countries: num(t.countries),
        quarantined: num(t.quarantined) + onIngest,
        quarantinedOnIngest: onIngest,
        quarantinedByEtl: num(t.quarantined),
      },
      top,
      eventsPerHour: perHour.map((h) => ({ hour: String(h.hour), received: num(h.received), valid: num(h.valid), quarantined: num(h.quarantined) })),
      statusMix,
      range:
        r.first_hour === null || r.first_hour === undefined
          ? undefined
          : {
              firstHour: String(r.first_hour),
              lastHour: String(r.last_hour),
              firstMtime: r.first_mtime === null ? '' : new Date(num(r.first_mtime)).toISOString(),
              lastMtime: r.last_mtime === null ? '' : new Date(num(r.last_mtime)).toISOString(),
            },
      freshness: await computeFreshness(store),
    };
  } finally {
    if (!options.connection) connection.closeSync();
  }
}

/**
 * Records quarantined on ingest: the entries (one JSON line each) of every object under
 * quarantine/, which the streamer and `lake import` write and the ETL never sees.
 */
export async function countIngestQuarantine(store: ObjectStore): Promise<number> {
  let n = 0;
  for (const info of await listAll(store, `${QUARANTINE}/`)) {
    if (!isRawDataKey(info.key)) continue;
    const bytes = await store.get(info.key);
    if (!bytes) continue;
    for (let at = 0; at < bytes.length; ) {
      let end = bytes.indexOf(0x0a, at);
      if (end < 0) end = bytes.length;
      if (end > at) n++;
      at = end + 1;
    }
  }
  return n;
}

/** Raw arrival vs ETL completion per hour, from the raw listing and `_state/etl/`. */
export async function computeFreshness(store: ObjectStore): Promise<HourFreshness[]> {
  const raw = new Map<HourId, { objects: number; newest: number }>();
  for (const info of await listAll(store, `${RAW}/`)) {
    const name = info.key.slice(info.key.lastIndexOf('/') + 1);
    const hour = hourOfKey(info.key);
    if (!hour || name.startsWith('_') || name.startsWith('.')) continue;
    const entry = raw.get(hour) ?? { objects: 0, newest: 0 };
    entry.objects += 1;
    entry.newest = Math.max(entry.newest, info.mtimeMs);
    raw.set(hour, entry);
  }
  const etl = new Map((await readEtlState(store)).hours.map((h) => [h.hour, h]));
  const hours = [...new Set([...raw.keys(), ...etl.keys()])].sort();
  return hours.map((hour) => {
    const r = raw.get(hour);
    const e = etl.get(hour);
    return {
      hour,
      rawObjects: r?.objects ?? 0,
      rawArrivedAt: r ? new Date(r.newest).toISOString() : undefined,
      etlDoneAt: e?.finishedAt,
      etlStatus: e?.status ?? 'pending',
      stale: r !== undefined && (e === undefined || e.status !== 'done' || r.newest > e.rawNewestMtimeMs),
    };
  });
}
