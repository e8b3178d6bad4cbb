import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { TABLES, type CuratedTable } from '../../src/etl/tables.ts';
import { hourIdOf, rawObjectKey } from '../../src/lake/layout.ts';
import type { EtlHourState } from '../../src/etl/state.ts';
import { CAPTURE } from './fixtures.ts';

/**
 * Synthesizes a curated lake directly with DuckDB SQL — one hive partition per table and hour, as
 * earlier versions of the ETL wrote them, then moved into the ETL's segments by its migration
 * (src/etl/migrate.ts), with per-hour ETL state and one small raw object per hour:
 * realistic cardinalities and skew (popular groups, cities, names),
 * a daily rhythm, and optionally stream-derived strings that try to break out of the HTML.
 * Used by the report tests (small) and bench/report.ts (1,000,000 events).
 */
export interface SynthLakeOptions {
  /** Unique events (rows of the current-state events table). */
  events: number;
  /** Arrival hours covered, starting at `start`. */
  hours?: number;
  start?: Date;
  /** Name about this share of events, one group, one venue and one city with HOSTILE-like text. */
  hostile?: string;
  /** Hour indexes left without data (their events move to the next hour): a quiet hour mid-range. */
  gapHours?: number[];
  /**
   * Share of events (0..1) that arrive again, changed, 1–24 hours later: like the ETL's output,
   * every table then holds one row per version per arrival hour and the views keep the newest.
   */
  revisions?: number;
}

export interface SynthLakeSummary {
  hours: string[];
  /** Unique events, and the event records (versions) stored. */
  events: number;
  records: number;
}

const CITIES: Array<[string, string, number, number, number]> = [
  // city, country, lat, lon, weight
  ['New York', 'us', 40.71, -74.0, 14], ['London', 'gb', 51.51, -0.13, 8], ['San Francisco', 'us', 37.77, -122.42, 6],
  ['Chicago', 'us', 41.88, -87.63, 5], ['Los Angeles', 'us', 34.05, -118.24, 5], ['Toronto', 'ca', 43.65, -79.38, 4],
  ['Washington', 'us', 38.9, -77.04, 4], ['Boston', 'us', 42.36, -71.06, 4], ['Seattle', 'us', 47.61, -122.33, 4],
  ['Austin', 'us', 30.27, -97.74, 3], ['Sydney', 'au', -33.87, 151.21, 3], ['Berlin', 'de', 52.52, 13.4, 3],
  ['Paris', 'fr', 48.86, 2.35, 3], ['Denver', 'us', 39.74, -104.99, 3], ['Atlanta', 'us', 33.75, -84.39, 3],
  ['Vancouver', 'ca', 49.28, -123.12, 2], ['Melbourne', 'au', -37.81, 144.96, 2], ['Madrid', 'es', 40.42, -3.7, 2],
  ['Amsterdam', 'nl', 52.37, 4.9, 2], ['Tokyo', 'jp', 35.68, 139.69, 2], ['Singapore', 'sg', 1.35, 103.82, 1],
  ['Bangalore', 'in', 12.97, 77.59, 2], ['São Paulo', 'br', -23.55, -46.63, 1], ['Mexico City', 'mx', 19.43, -99.13, 1],
  ['Dublin', 'ie', 53.35, -6.26, 1], ['Stockholm', 'se', 59.33, 18.07, 1], ['Tel Aviv', 'il', 32.08, 34.78, 1],
  ['Cape Town', 'za', -33.92, 18.42, 1], ['Auckland', 'nz', -36.85, 174.76, 1], ['Manchester', 'gb', 53.48, -2.24, 1],
];
const CATEGORY_IDS = [31, 23, 34, 2, 14, 9, 21, 15, 6, 32, 10, 22, 1, 25, 16, 27, 11, 20, 5, 18, 4, 3, 8, 12, 13, 24, 26, 28, 29, 30, 33, 35, 36];
const TOPICS = ['Hiking', 'Tech', 'Startup', 'Yoga', 'Book Club', 'Running', 'Photography', 'Board Games', 'Spanish', 'JavaScript', 'Data Science', 'Wine', 'Singles', 'Salsa', 'Meditation', 'Climbing', 'Film', 'Parents', 'Writers', 'Cycling'];
const SUFFIX = ['Meetup', 'Club', 'Group', 'Society', 'Collective', 'Network'];
const EVENT_A = ['Weekly', 'Monthly', 'Saturday', 'Sunday', 'Evening', 'Morning', 'Beginner', 'Advanced', 'Casual', 'Open'];
const EVENT_B = ['Hike', 'Happy Hour', 'Coding Night', 'Yoga Flow', 'Book Discussion', 'Run', 'Photo Walk', 'Game Night', 'Conversation', 'Workshop', 'Meditation', 'Dinner', 'Dance Class', 'Bike Ride', 'Hack Night'];
const VENUES = ['Central Library', 'The Local Pub', 'WeWork', 'Starbucks', 'Community Center', 'City Park', 'Trailhead Parking', 'Brewery Taproom', 'Coffee House', 'Google Campus'];
const STATUS: Array<[string, number]> = [['upcoming', 0.88], ['canceled', 0.05], ['suggested', 0.04], ['proposed', 0.02], ['deleted', 0.01]];

const lit = (s: string): string => `'${s.replaceAll("'", "''")}'`;
const list = (xs: readonly (string | number)[]): string => `[${xs.map((x) => (typeof x === 'number' ? String(x) : lit(x))).join(', ')}]`;

/** Writes the synthetic lake under `root` (which must not yet hold curated/). */
export async function synthesizeCuratedLake(root: string, options: SynthLakeOptions): Promise<SynthLakeSummary> {
  const n = options.events;
  const hoursN = options.hours ?? 48;
  const startMs = Math.floor((options.start ?? new Date(Date.UTC(2015, 2, 8))).getTime() / 3_600_000) * 3_600_000;
  const groupsN = Math.max(20, Math.round(n / 16));
  const hostile = options.hostile;
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  const run = (sql: string) => db.run(sql);
  await fs.mkdir(path.join(root, 'curated'), { recursive: true });
  try {
    await run(`SET threads = 2`);
    // hash() is UBIGINT; list indexes and arithmetic want BIGINT.
    await run(`CREATE MACRO hh(a, b) AS CAST(hash(a, b) % 1000000007 AS BIGINT)`);
    const cumulative: number[] = [];
    const weights = CITIES.map((c) => c[4]);
    const total = weights.reduce((a, b) => a + b, 0);
    weights.reduce((acc, w) => (cumulative.push((acc + w) / total), acc + w), 0);
    // Groups: city by weight, coordinates jittered around it, a skewed category, names that collide sometimes.
    await run(`CREATE TABLE g AS
      WITH base AS (SELECT i AS group_id, hh(i, 1) % 1000000 / 1e6 AS u, hh(i, 2) % 1000 AS h FROM range(${groupsN}) t(i)),
      c AS (SELECT *, list_position(list_transform(${list(cumulative)}, x -> x > u), true) AS ci FROM base)
      SELECT group_id,
        ${hostile ? `CASE WHEN group_id = 0 THEN ${lit(hostile)} ELSE ` : ''}${list(CITIES.map((c) => c[0]))}[ci] || ' ' || ${list(TOPICS)}[1 + h % ${TOPICS.length}] || ' ' || ${list(SUFFIX)}[1 + (h // 20) % ${SUFFIX.length}]${hostile ? ' END' : ''} AS name,
        'group-' || group_id AS urlname, 'open' AS join_mode,
        ${list(CITIES.map((c) => c[0]))}[ci] AS city, NULL AS state, ${list(CITIES.map((c) => c[1]))}[ci] AS country,
        ${list(CITIES.map((c) => c[2]))}[ci] + (hh(group_id, 3) % 2000) / 1000.0 - 1 AS lat,
        ${list(CITIES.map((c) => c[3]))}[ci] + (hh(group_id, 4) % 2000) / 1000.0 - 1 AS lon,
        CASE WHEN hh(group_id, 5) % 20 = 0 THEN NULL ELSE ${list(CATEGORY_IDS)}[1 + CAST(floor(${CATEGORY_IDS.length} * pow(hh(group_id, 6) % 1000000 / 1e6, 2.2)) AS INTEGER)] END AS category_id,
        NULL AS photo_link
      FROM c`);
    // Events: skewed towards popular groups and names; arrival hours follow a daily rhythm.
    const amp = (0.45 * 24) / (2 * Math.PI);
    await run(`CREATE TABLE e AS
      SELECT i, 'ev' || i AS event_id,
        CAST(floor(${groupsN} * pow(hh(i, 7) % 1000000 / 1e6, 2)) AS BIGINT) AS group_id,
        least(${hoursN - 1}, greatest(0, CAST(floor(i * ${hoursN} / ${n} - ${amp} * sin(2 * pi() * (i * ${hoursN} / ${n}) / 24)) AS INTEGER))) AS hour_idx,
        CAST(floor(${EVENT_A.length * EVENT_B.length} * pow(hh(i, 8) % 1000000 / 1e6, 3)) AS INTEGER) AS name_idx,
        hh(i, 9) % 10000 / 10000.0 AS su,
        hh(i, 10) % 10 AS vr
      FROM range(${n}) t(i)`);
    await run(`CREATE TABLE ev AS
      SELECT *, 1 AS ver FROM e
      UNION ALL
      SELECT * REPLACE (hour_idx + 1 + i % 24 AS hour_idx, (su + 0.37) % 1 AS su), 2 AS ver FROM e
      WHERE hh(i, 12) % 1000 < ${Math.round((options.revisions ?? 0) * 1000)} AND hour_idx + 1 + i % 24 < ${hoursN}`);
    if (options.gapHours?.length) await run(`UPDATE ev SET hour_idx = hour_idx + 1 WHERE hour_idx IN (${options.gapHours.join(', ')})`);
    const statusCase = `CASE ${STATUS.reduce<[string, number]>(([sql, acc], [s, p]) => [`${sql} WHEN su < ${acc + p} THEN ${lit(s)}`, acc + p], ['', 0])[0]} ELSE 'upcoming' END`;
    const hourExpr = (idx: string) => `strftime(make_timestamp(${startMs}::BIGINT * 1000 + ${idx}::BIGINT * 3600000000), '%Y-%m-%dT%H')`;
    const out = (table: CuratedTable) => path.join(root, 'curated', table).replaceAll("'", "''");
    const copy = async (table: CuratedTable, exprs: Record<string, string>, from: string): Promise<void> => {
      const cols = Object.entries(TABLES[table].columns).filter(([c]) => c !== 'arrival_hour');
      const select = cols.map(([c, t]) => `CAST(${exprs[c] ?? 'NULL'} AS ${t}) AS "${c}"`).join(', ');
      await run(`COPY (SELECT ${select}, ${exprs.arrival_hour} AS arrival_hour FROM ${from}) TO '${out(table)}' (FORMAT parquet, PARTITION_BY (arrival_hour), OVERWRITE_OR_IGNORE)`);
    };
    const first = lit(hourIdOf(startMs));
    const mtime = `(${startMs} + hour_idx * 3600000 + i % 3599000 + ver)`;
    await copy(
      'events',
      {
        event_id: 'event_id',
        name: hostile ? `CASE WHEN i % 13 = 0 THEN ${lit(hostile)} ELSE name END` : 'name',
        event_url: `'https://www.meetup.com/group-' || group_id || '/events/' || i`,
        status: statusCase,
        visibility: `'public'`,
        time_utc: `make_timestamp((${startMs} + hour_idx * 3600000 + 86400000 * (1 + i % 14))::BIGINT * 1000)`,
        duration_ms: '10800000',
        yes_rsvp_count: 'hh(i, 11) % 40',
        maybe_rsvp_count: '0',
        payment_required: 'false',
        group_id: 'group_id',
        venue_key: `CASE WHEN vr < 7 THEN md5(CAST(group_id * 3 + vr % 3 AS VARCHAR)) END`,
        mtime,
        arrival_hour: hourExpr('hour_idx'),
      },
      `(SELECT *, ${list(EVENT_A)}[1 + name_idx % ${EVENT_A.length}] || ' ' || ${list(EVENT_B)}[1 + name_idx // ${EVENT_A.length}] AS name FROM ev)`,
    );
    await copy('event_changes', { event_id: 'event_id', mtime, status: statusCase, yes_rsvp_count: '0', arrival_hour: hourExpr('hour_idx') }, 'ev');
    // Groups and venues are written in every hour one of their events arrived in, as the ETL does.
    await copy(
      'groups',
      {
        group_id: 'group_id',
        name: 'name',
        urlname: 'urlname',
        join_mode: 'join_mode',
        city: 'city',
        country: 'country',
        lat: 'lat',
        lon: 'lon',
        category_id: 'category_id',
        mtime: `${startMs} + hour_idx * 3600000`,
        arrival_hour: hourExpr('hour_idx'),
      },
      '(SELECT g.*, x.hour_idx FROM (SELECT DISTINCT group_id, hour_idx FROM ev) x JOIN g USING (group_id))',
    );
    await copy(
      'venues',
      {
        venue_key: 'md5(CAST(v AS VARCHAR))',
        name: hostile ? `CASE WHEN v = 0 THEN ${lit(hostile)} ELSE ${list(VENUES)}[1 + v % ${VENUES.length}] END` : `${list(VENUES)}[1 + v % ${VENUES.length}]`,
        city: hostile ? `CASE WHEN v = 1 THEN ${lit(hostile)} ELSE city END` : 'city',
        country: 'upper(country)',
        lat: 'lat',
        lon: 'lon',
        mtime: `${startMs} + hour_idx * 3600000`,
        arrival_hour: hourExpr('hour_idx'),
      },
      `(SELECT DISTINCT ev.group_id * 3 + ev.vr % 3 AS v, ev.hour_idx, g.city, g.country, g.lat, g.lon FROM ev JOIN g USING (group_id) WHERE ev.vr < 7)`,
    );
    await copy(
      'categories',
      { category_id: 'id', name: 'name', shortname: 'name', mtime: `${startMs}`, arrival_hour: first },
      `(SELECT unnest(${list(CATEGORY_IDS)}) AS id, unnest(${list(CATEGORY_IDS.map((id) => CATEGORY_NAMES[id] ?? `category-${id}`))}) AS name)`,
    );
    await copy('fees', { event_id: 'event_id', amount: '10.0', currency: `'USD'`, description: `'per person'`, mtime, arrival_hour: hourExpr('hour_idx') }, `(SELECT * FROM ev WHERE i % 10 = 0)`);
    await run(`CREATE TABLE h AS SELECT hour_idx, count(*) AS n FROM ev GROUP BY hour_idx`);
    await copy(
      'hours',
      {
        raw_records: 'n + (hour_idx % 7 = 0)::INTEGER',
        valid_records: 'n',
        quarantined: '(hour_idx % 7 = 0)::INTEGER',
        processed_at: `make_timestamp((${startMs} + hour_idx * 3600000 + 3900000)::BIGINT * 1000)`,
        arrival_hour: hourExpr('hour_idx'),
      },
      'h',
    );
    await copy(
      'quarantine',
      { source_key: `'raw/w1.ndjson.gz'`, line_no: '1', reason: `'invalid_json'`, raw: `'{"id": '`, arrival_hour: hourExpr('hour_idx') },
      `(SELECT * FROM h WHERE hour_idx % 7 = 0)`,
    );
    const perHour = (await (await db.runAndReadAll(`SELECT CAST(hour_idx AS INTEGER) AS hour_idx, n FROM h ORDER BY hour_idx`)).getRowObjectsJS()) as Array<{ hour_idx: number; n: bigint }>;
    const hours: string[] = [];
    for (const { hour_idx: idx, n: count } of perHour) {
      const hourStart = startMs + idx * 3_600_000;
      const hour = hourIdOf(hourStart);
      hours.push(hour);
      const rawKey = rawObjectKey(hour, 'w1', 0, Number(count) - 1, 'ndjson');
      const rawFile = path.join(root, ...rawKey.split('/'));
      await fs.mkdir(path.dirname(rawFile), { recursive: true });
      await fs.writeFile(rawFile, '');
      const arrived = new Date(hourStart + 59 * 60_000);
      await fs.utimes(rawFile, arrived, arrived);
      const state: EtlHourState = {
        hour,
        status: 'done',
        engine: 'duckdb',
        startedAt: new Date(hourStart + 64 * 60_000).toISOString(),
        finishedAt: new Date(hourStart + 65 * 60_000).toISOString(),
        durationMs: 60_000,
        rawObjects: 1,
        rawBytes: 0,
        rawNewestMtimeMs: arrived.getTime(),
        rawRecords: Number(count),
        validRecords: Number(count),
        quarantined: 0,
      };
      const stateFile = path.join(root, '_state', 'etl', 'hours', `${hour}.json`);
      await fs.mkdir(path.dirname(stateFile), { recursive: true });
      await fs.writeFile(stateFile, JSON.stringify(state));
    }
    const records = perHour.reduce((sum, h) => sum + Number(h.n), 0);
    const { migrateLegacyLayout } = await import('../../src/etl/migrate.ts');
    const { LocalStore } = await import('../../src/lake/local-store.ts');
    const scratch = await fs.mkdtemp(path.join(root, '.synth-'));
    try {
      await migrateLegacyLayout(new LocalStore(root), { scratch, nowMs: Date.now(), graceMs: 0 });
    } finally {
      await fs.rm(scratch, { recursive: true, force: true });
    }
    return { hours, events: n, records };
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

const CATEGORY_NAMES: Record<number, string> = {
  1: 'arts-culture', 2: 'career-business', 3: 'cars-motorcycles', 4: 'community-environment', 5: 'dancing', 6: 'education-learning',
  8: 'fashion-beauty', 9: 'fitness', 10: 'food-drink', 11: 'games', 12: 'lgbt', 13: 'government-politics', 14: 'health-wellbeing',
  15: 'hobbies-crafts', 16: 'language', 18: 'literature-writing', 20: 'movies-film', 21: 'music', 22: 'new-age-spirituality',
  23: 'outdoors-adventure', 24: 'paranormal', 25: 'parents-family', 26: 'pets-animals', 27: 'photography', 28: 'religion-beliefs',
  29: 'sci-fi-fantasy', 30: 'singles', 31: 'socializing', 32: 'sports-recreation', 33: 'support', 34: 'tech', 35: 'women', 36: 'writing',
};

/** The real capture in shared/ (tests only; the product never reads shared/). */
export { CAPTURE as REAL_CAPTURE };

/** `copies` records cloned from the capture's first record, renamed (see renamedCopies). */
export async function hostileRecords(name: string, copies: number, idPrefix = 'hostile'): Promise<string[]> {
  const text = await fs.readFile(CAPTURE, 'utf8');
  return renamedCopies(text.slice(0, text.indexOf('\n')), name, copies, idPrefix);
}

/**
 * A raw lake of generated events (the source's generator): `count` records over `hours` arrival
 * hours from `startMs`, one raw object per hour, plus `extra` lines appended to the first hour.
 * Returns the arrival hours written.
 */
export async function generatedRawLake(
  store: import('../../src/lake/store.ts').ObjectStore,
  options: { seed: number; count: number; hours: number; startMs: number; extra?: string[] },
): Promise<string[]> {
  const { createGenerator } = await import('../../src/source/generator.ts');
  const spanMs = options.hours * 3_600_000 - 1;
  const byHour = new Map<string, string[]>();
  let k = 0;
  for (const record of createGenerator({ seed: options.seed, count: options.count, startMs: options.startMs, spanMs })) {
    const hour = hourIdOf(options.startMs + Math.floor((k * spanMs) / options.count));
    k += 1;
    byHour.set(hour, [...(byHour.get(hour) ?? []), record.line]);
  }
  const hours = [...byHour.keys()].sort();
  if (options.extra?.length && hours[0]) byHour.get(hours[0])!.push(...options.extra);
  for (const hour of hours) {
    const lines = byHour.get(hour)!;
    await store.put(rawObjectKey(hour, 'gen', 0, lines.length - 1, 'ndjson'), lines.join('\n') + '\n');
  }
  return hours;
}

/** `copies` records cloned from `line` with fresh ids and `name` as event, group and venue name. */
export function renamedCopies(line: string, name: string, copies: number, idPrefix: string): string[] {
  const template = JSON.parse(line) as Record<string, unknown> & { group: Record<string, unknown>; venue?: Record<string, unknown> };
  return Array.from({ length: copies }, (_, i) =>
    JSON.stringify({
      ...template,
      id: `${idPrefix}${i}`,
      name,
      group: { ...template.group, id: 990_000_001, name },
      ...(template.venue ? { venue: { ...template.venue, name, city: name } } : {}),
    }),
  );
}

/** Removes a test lake folder and the curated snapshot/mirror openCurated keeps for it in the temp folder. */
export async function removeLake(store: import('../../src/lake/store.ts').ObjectStore, root?: string): Promise<void> {
  const { curatedCacheDir } = await import('../../src/etl/curated.ts');
  await fs.rm(curatedCacheDir(store), { recursive: true, force: true });
  if (root) await fs.rm(root, { recursive: true, force: true });
}
