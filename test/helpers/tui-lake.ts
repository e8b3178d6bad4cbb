import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { hourIdOf, hourPath, type HourId } from '../../src/lake/layout.ts';

/** Writes a raw object of `records` small events into a lake folder's hour; returns its key. */
export function writeRawHour(lake: string, hour: HourId, records: number, options: { writer?: string; first?: number; manifest?: boolean } = {}): string {
  const writer = options.writer ?? 'w1';
  const first = options.first ?? 1;
  const last = first + records - 1;
  const dir = path.join(lake, 'raw', hourPath(hour));
  mkdirSync(dir, { recursive: true });
  const lines = Array.from({ length: records }, (_, i) => JSON.stringify({ id: String(first + i), mtime: 1 })).join('\n') + '\n';
  const name = `${writer}-${first}-${last}.ndjson.gz`;
  const body = gzipSync(lines);
  writeFileSync(path.join(dir, name), body);
  if (options.manifest) {
    const key = `raw/${hourPath(hour)}/${name}`;
    writeFileSync(
      path.join(dir, '_manifest.json'),
      JSON.stringify({ hour, closedAt: new Date().toISOString(), files: [{ key, records, bytes: body.length }], records, bytes: body.length }),
    );
  }
  return `raw/${hourPath(hour)}/${name}`;
}

/** Records an hour's ETL state in its month document, as the ETL does (src/etl/state.ts writeHourStates). */
export function writeEtlHour(lake: string, hour: HourId, status: 'done' | 'failed', error?: string): void {
  const dir = path.join(lake, '_state/etl/hours');
  mkdirSync(dir, { recursive: true });
  const month = hour.slice(0, 7);
  const file = path.join(dir, `${month}.json`);
  const doc: { month: string; hours: Record<string, unknown> } = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { month, hours: {} };
  doc.hours[hour] = { hour, status, engine: 'duckdb', ...(error ? { error } : {}) };
  writeFileSync(file, JSON.stringify(doc));
}

/** Appends a telemetry record the way LocalTelemetry does. */
export function writeTelemetry(lake: string, record: { ts: string; level?: string; component: string; kind: string; msg?: string; data?: unknown }): void {
  const day = path.join(lake, '_telemetry', record.ts.slice(0, 10));
  mkdirSync(day, { recursive: true });
  appendFileSync(path.join(day, `${record.component}.jsonl`), JSON.stringify({ level: 'info', msg: '', ...record }) + '\n');
}

/** A stream stats record at `atMs`. */
export function writeStreamStats(lake: string, atMs: number, data: Record<string, unknown>): void {
  writeTelemetry(lake, { ts: new Date(atMs).toISOString(), component: 'stream', kind: 'stats', msg: 'stats', data });
}

/** The hour `back` hours before the one containing `nowMs`. */
export function hourBefore(nowMs: number, back: number): HourId {
  return hourIdOf(nowMs - back * 3_600_000);
}
