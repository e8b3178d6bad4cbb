import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { LocalStore } from '../../src/lake/local-store.ts';
import { hourIdOf, rawObjectKey, type HourId } from '../../src/lake/layout.ts';
import { CAPTURE, REST_CORPUS } from './fixtures.ts';

export { CAPTURE };

/** The capture's lines as they are on disk (blank lines dropped), the cut-off last line included. */
export function captureLines(): string[] {
  return readFileSync(CAPTURE, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

/** A fresh local lake in a temp folder. */
export async function tempLake(): Promise<{ store: LocalStore; dir: string; cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'oe-etl-'));
  const store = new LocalStore(dir);
  // The curated cache lives inside a local lake, so removing the lake removes it too.
  const cleanup = async (): Promise<void> => fs.rm(dir, { recursive: true, force: true });
  return { store, dir, cleanup };
}

/** The hour of a raw line by its event mtime; lines that do not parse go to `fallback`. */
export function mtimeHour(line: string, fallback: HourId): HourId {
  try {
    const mtime = Number((JSON.parse(line) as { mtime?: unknown }).mtime);
    return Number.isFinite(mtime) ? hourIdOf(mtime) : fallback;
  } catch {
    return fallback;
  }
}

/**
 * Writes lines into raw hour objects grouped by `hourOf` (gzip NDJSON, byte-for-byte lines), like an
 * import by mtime. Returns the hours written.
 */
export async function writeRawByHour(
  store: LocalStore,
  lines: string[],
  hourOf: (line: string) => HourId,
  writer = 'import',
): Promise<HourId[]> {
  const byHour = new Map<HourId, string[]>();
  for (const line of lines) {
    const h = hourOf(line);
    byHour.set(h, [...(byHour.get(h) ?? []), line]);
  }
  for (const [hour, hourLines] of byHour) {
    await store.put(rawObjectKey(hour, writer, 1, hourLines.length), gzipSync(hourLines.join('\n') + '\n'));
  }
  return [...byHour.keys()].sort();
}

/** Writes one raw object with exact bytes (plain, gzip or Firehose-style), for edge cases. */
export async function writeRawObject(store: LocalStore, hour: HourId, name: string, body: string | Uint8Array): Promise<void> {
  const key = rawObjectKey(hour, 'x', 0, 0).replace(/[^/]+$/, name);
  await store.put(key, body);
}

/** The real records of the fixtures — the capture's and the REST corpus' — that are JSON objects, as lines. */
export function realRecords(): string[] {
  const rest = gunzipSync(readFileSync(REST_CORPUS)).toString('utf8').split('\n');
  return [...captureLines(), ...rest].filter((l) => {
    try {
      return typeof JSON.parse(l) === 'object';
    } catch {
      return false;
    }
  });
}

/**
 * `count` real records with new ids (`<prefix><n % ids>`: with fewer ids than records, an id
 * comes back in a later record with that record's mtime, like an event changing), cycling through
 * the fixtures.
 */
export function repeatedRealRecords(count: number, options: { prefix?: string; ids?: number } = {}): string[] {
  const real = realRecords();
  return Array.from({ length: count }, (_, n) => {
    const record = JSON.parse(real[n % real.length] as string) as Record<string, unknown>;
    return JSON.stringify({ ...record, id: `${options.prefix ?? 'r'}${n % (options.ids ?? count)}` });
  });
}

/** Writes line i into hours[i % hours.length], one gzip NDJSON object per hour (deterministic names). */
export async function writeSpread(store: LocalStore, lines: readonly string[], hours: readonly HourId[]): Promise<void> {
  const byHour = new Map<HourId, string[]>();
  lines.forEach((line, i) => {
    const hour = hours[i % hours.length] as HourId;
    byHour.set(hour, [...(byHour.get(hour) ?? []), line]);
  });
  for (const [hour, hourLines] of byHour) await store.put(rawObjectKey(hour, 'spread', 1, hourLines.length), gzipSync(hourLines.join('\n') + '\n'));
}

/** Every `step`-th hour from `from`, `count` of them: sparse hours, as an archive imported by mtime has. */
export function sparseHours(from: HourId, count: number, step: number): HourId[] {
  const start = Date.parse(`${from}:00:00Z`);
  return Array.from({ length: count }, (_, i) => hourIdOf(start + i * step * 3_600_000));
}
