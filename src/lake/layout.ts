/**
 * The lake's layout: where each kind of object lives. See DESIGN.md "The lake".
 *   raw/YYYY/MM/DD/HH/<writer>-<first>-<last>.ndjson.gz   events as received, by UTC arrival hour
 *   raw/YYYY/MM/DD/HH/_manifest.json                       written when the hour is closed
 *   curated/<table>/...                                    3NF Parquet tables
 *   quarantine/...                                         rejected records with the reason
 *   models/<run-id>/, reports/, _state/, _telemetry/
 */

/** An hour as 'YYYY-MM-DDTHH' (UTC), the form used on the command line and in state. */
export type HourId = string;

const HOUR_ID = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})$/;

/** The UTC hour containing `ms`, as 'YYYY-MM-DDTHH'. */
export function hourIdOf(ms: number): HourId {
  return new Date(ms).toISOString().slice(0, 13);
}

/** Start of the hour in ms since the epoch; throws on a malformed id. */
export function hourStartMs(hour: HourId): number {
  const m = HOUR_ID.exec(hour);
  if (!m) throw new Error(`not an hour (YYYY-MM-DDTHH): ${hour}`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
  if (hourIdOf(ms) !== hour) throw new Error(`not a valid hour: ${hour}`);
  return ms;
}

export function isHourId(value: string): boolean {
  try {
    hourStartMs(value);
    return true;
  } catch {
    return false;
  }
}

/** The hours from `from` to `to`, both included. */
export function hoursBetween(from: HourId, to: HourId): HourId[] {
  const out: HourId[] = [];
  for (let ms = hourStartMs(from); ms <= hourStartMs(to); ms += 3_600_000) out.push(hourIdOf(ms));
  return out;
}

/** 'YYYY-MM-DDTHH' → 'YYYY/MM/DD/HH' (Firehose's default prefix form). */
export function hourPath(hour: HourId): string {
  hourStartMs(hour);
  return `${hour.slice(0, 4)}/${hour.slice(5, 7)}/${hour.slice(8, 10)}/${hour.slice(11, 13)}`;
}

/** The hour of a key under raw/ (or any YYYY/MM/DD/HH path), or undefined. */
export function hourOfKey(key: string): HourId | undefined {
  const m = /(?:^|\/)(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\//.exec(key);
  if (!m) return undefined;
  const hour = `${m[1]}-${m[2]}-${m[3]}T${m[4]}`;
  return isHourId(hour) ? hour : undefined;
}

export const RAW = 'raw';
export const CURATED = 'curated';
export const QUARANTINE = 'quarantine';
export const MODELS = 'models';
export const REPORTS = 'reports';
export const STATE = '_state';
export const TELEMETRY = '_telemetry';

/** The folder (key prefix, with trailing '/') of a raw hour. */
export function rawHourPrefix(hour: HourId): string {
  return `${RAW}/${hourPath(hour)}/`;
}

/** The manifest key of a raw hour. */
export function manifestKey(hour: HourId): string {
  return `${rawHourPrefix(hour)}_manifest.json`;
}

/**
 * Deterministic raw object name: a retried write of the same records replaces, never duplicates.
 * `first`/`last` are the writer's sequence numbers (the streamer's counters, or a Kinesis shard's
 * sequence numbers, which are decimal strings too long for a number).
 */
export function rawObjectKey(hour: HourId, writer: string, first: number | string, last: number | string, ext = 'ndjson.gz'): string {
  return `${rawHourPrefix(hour)}${writer}-${first}-${last}.${ext}`;
}

/** The manifest of a closed raw hour. */
export interface HourManifest {
  hour: HourId;
  closedAt: string;
  files: Array<{ key: string; records: number; bytes: number }>;
  records: number;
  bytes: number;
}
