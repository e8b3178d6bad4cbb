import { setTimeout as pause } from 'node:timers/promises';
import { UserError } from '../errors.ts';
import { matchesQuery, type TelemetryQuery, type TelemetryReader, type TelemetryRecord } from './telemetry.ts';

export interface FollowOptions {
  /** Stops following. */
  signal: AbortSignal;
  /** Poll interval (default 1 s). */
  intervalMs?: number;
  /** Gets the history first, then each batch of new records, oldest first. */
  onRecords: (records: TelemetryRecord[]) => void;
}

/**
 * `tail -f` for telemetry, on either profile: the matching history, then every matching record
 * that arrives, each exactly once, until the signal. The feed is started before the history is
 * read, so nothing written in between is missed; what both report is shown once.
 */
export async function followTelemetry(reader: TelemetryReader, query: TelemetryQuery, options: FollowOptions): Promise<void> {
  const feed = reader.feed({ backlog: false });
  const primedAt = Date.now();
  await feed.poll();
  const history = await reader.read(query);
  options.onRecords(history);
  // Records of the history that the feed may report again (written around the moment it started).
  const recent = new Set(history.filter((r) => Date.parse(r.ts) >= primedAt - 60_000).map(recordKey));
  const live: TelemetryQuery = { ...query, sinceMs: undefined };
  while (!options.signal.aborted) {
    // (an abort ends the wait early: the loop then stops)
    await pause(options.intervalMs ?? 1_000, undefined, { signal: options.signal }).catch(() => undefined);
    if (options.signal.aborted) break;
    const fresh = (await feed.poll()).filter((r) => matchesQuery(r, live) && !recent.has(recordKey(r)));
    if (fresh.length > 0) options.onRecords(fresh);
  }
}

/**
 * A point in time from a duration back from now (`90s`, `10m`, `2h`, `7d`) or an ISO-8601 time
 * (`2026-11-28T06:00Z`), in ms since the epoch.
 */
export function parseSince(value: string, now = Date.now()): number {
  const duration = parseDurationMs(value);
  if (duration !== undefined) return now - duration;
  const ms = Date.parse(value);
  if (Number.isFinite(ms)) return ms;
  throw new UserError(`--since must be a duration such as 10m, 2h or 7d, or a time such as 2026-11-28T06:00Z; got "${value}"`);
}

/** `250ms`, `90s`, `10m`, `2h`, `7d` in ms; undefined when the text is not a duration. */
export function parseDurationMs(value: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/i.exec(value);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2]!.toLowerCase() as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(m[1]) * unit);
}

function recordKey(r: TelemetryRecord): string {
  return JSON.stringify([r.ts, r.component, r.kind, r.level, r.msg]);
}
