import { appendFileSync, mkdirSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { isErrnoCode } from '../errors.ts';
import { TELEMETRY } from '../lake/layout.ts';
import { redactText, redactValue } from '../redact.ts';
import { LocalTelemetryFeed, type TelemetryFeed } from './feed.ts';

/**
 * Telemetry: logs, periodic stats and audit lines. Local profile: JSON lines under the lake's
 * `_telemetry/YYYY-MM-DD/<component>.jsonl`; the aws profile sends the same records to
 * CloudWatch Logs (cloudwatch.ts) behind the same interfaces. Which one a command gets is
 * decided in one place, the runtime (config/runtime.ts). Every sink redacts secrets.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
export type RecordKind = 'log' | 'stats' | 'audit';

export interface TelemetryRecord {
  /** ISO-8601 UTC time. */
  ts: string;
  level: Level;
  /** Who wrote it: 'stream', 'etl', 'monitor', ... */
  component: string;
  kind: RecordKind;
  msg: string;
  data?: Record<string, unknown>;
}

export interface TelemetrySink {
  emit(record: Omit<TelemetryRecord, 'ts'> & { ts?: string }): void;
  close(): Promise<void>;
}

export interface TelemetryQuery {
  /** Only records at or after this time (ms since the epoch). */
  sinceMs?: number;
  kind?: RecordKind;
  component?: string;
  /** Only records at this level or above. */
  level?: Level;
  /** Only records whose JSON line contains this text (case-sensitive, as CloudWatch's quoted-term filter). */
  text?: string;
  /** The newest `limit` records (default 500). */
  limit?: number;
}

export interface TelemetrySource {
  /** Matching records, oldest first. */
  read(query?: TelemetryQuery): Promise<TelemetryRecord[]>;
}

/** Reads telemetry back: history (`logs --since`) and a feed of what arrives (`logs --follow`, the monitor). */
export interface TelemetryReader extends TelemetrySource {
  /** A feed of records that arrive from now on (its first poll also returns a recent backlog unless `backlog` is false). */
  feed(options?: { backlog?: boolean }): TelemetryFeed;
}

const LEVEL_RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** True when a record passes the query's kind, component, level, time and text filters (not its limit). */
export function matchesQuery(record: TelemetryRecord, query: TelemetryQuery, line?: string): boolean {
  if (query.kind && record.kind !== query.kind) return false;
  if (query.component && record.component !== query.component) return false;
  if (query.level && (LEVEL_RANK[record.level] ?? 1) < LEVEL_RANK[query.level]) return false;
  if (query.sinceMs !== undefined && Date.parse(record.ts) < query.sinceMs) return false;
  if (query.text && !(line ?? JSON.stringify(record)).includes(query.text)) return false;
  return true;
}

/**
 * The record as every sink stores it: timestamped (`now` unless it has a `ts`), its message and
 * data redacted (credentials and tokens in URLs never reach a log).
 */
export function stampRecord(record: Omit<TelemetryRecord, 'ts'> & { ts?: string }, now: () => number): TelemetryRecord {
  const { data, ...rest } = record;
  return {
    ...rest,
    ts: record.ts ?? new Date(now()).toISOString(),
    msg: redactText(String(record.msg)),
    ...(data !== undefined ? { data: redactValue(data) } : {}),
  };
}

/** Appends each record as one JSON line; a line is on disk when emit() returns. */
export class LocalTelemetry implements TelemetrySink, TelemetryReader {
  readonly dir: string;
  private readonly now: () => number;

  /** `lakeRoot` is a local lake folder. */
  constructor(lakeRoot: string, options: { now?: () => number } = {}) {
    this.dir = path.join(path.resolve(lakeRoot), TELEMETRY);
    this.now = options.now ?? Date.now;
  }

  emit(record: Omit<TelemetryRecord, 'ts'> & { ts?: string }): void {
    const stamped = stampRecord(record, this.now);
    const line = JSON.stringify(stamped) + '\n';
    const day = path.join(this.dir, stamped.ts.slice(0, 10));
    mkdirSync(day, { recursive: true });
    appendFileSync(path.join(day, `${safeName(record.component)}.jsonl`), line);
  }

  async close(): Promise<void> {}

  feed(options: { backlog?: boolean } = {}): TelemetryFeed {
    return new LocalTelemetryFeed(this.dir, { now: this.now, ...(options.backlog === false ? { backlogBytes: 0 } : {}) });
  }

  async read(query: TelemetryQuery = {}): Promise<TelemetryRecord[]> {
    const limit = query.limit ?? 500;
    let days: string[];
    try {
      days = (await fs.readdir(this.dir)).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)).sort();
    } catch (error) {
      if (isErrnoCode(error, 'ENOENT')) return [];
      throw error;
    }
    if (query.sinceMs !== undefined) {
      const sinceDay = new Date(query.sinceMs).toISOString().slice(0, 10);
      days = days.filter((d) => d >= sinceDay);
    }
    const out: TelemetryRecord[] = [];
    // Newest days first, stop once enough records are found.
    for (const day of days.reverse()) {
      const files = (await fs.readdir(path.join(this.dir, day))).filter((f) => f.endsWith('.jsonl'));
      for (const file of files) {
        if (query.component && file !== `${safeName(query.component)}.jsonl`) continue;
        const text = await fs.readFile(path.join(this.dir, day, file), 'utf8');
        for (const line of text.split('\n')) {
          if (!line) continue;
          let rec: TelemetryRecord;
          try {
            rec = JSON.parse(line) as TelemetryRecord;
          } catch {
            continue; // a line cut by a crash
          }
          if (matchesQuery(rec, query, line)) out.push(rec);
        }
      }
      if (out.length >= limit) break;
    }
    out.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    return out.slice(-limit);
  }
}

/** A sink that drops everything (tests, or commands run without a lake). */
export const nullTelemetry: TelemetrySink = { emit() {}, async close() {} };

function safeName(component: string): string {
  return component.replace(/[^a-zA-Z0-9_.-]/g, '_');
}
