import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { LocalJobRunner } from '../../src/jobs/local.ts';
import { hourIdOf, rawObjectKey, STATE, type HourId } from '../../src/lake/layout.ts';
import type { LeaseHolder } from '../../src/lake/lease.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { JobEtlLauncher, type EtlLauncher } from '../../src/schedule/launch.ts';
import type { ScheduleSettings } from '../../src/schedule/plan.ts';
import type { SchedulerOptions } from '../../src/schedule/scheduler.ts';
import { captureLines } from '../helpers/etl-lake.ts';

export const HOUR = 3_600_000;

/** The hour `i` hours after `baseMs`. */
export function hourAt(baseMs: number, i: number): HourId {
  return hourIdOf(baseMs + i * HOUR);
}

/** The real capture's records (the lines that are JSON objects). */
export function captureRecords(): string[] {
  return captureLines().filter((line) => {
    try {
      const v: unknown = JSON.parse(line);
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    } catch {
      return false;
    }
  });
}

/**
 * Writes `perHour` records of the capture into each hour as one gzip object (a different slice per
 * hour and call, named like a streamer's file); returns the records written per hour.
 */
export async function writeHours(store: LocalStore, hours: readonly HourId[], perHour = 20, writer = 'w1'): Promise<Map<HourId, number>> {
  const records = captureRecords();
  const out = new Map<HourId, number>();
  for (const hour of hours) {
    const start = (offset += perHour) % (records.length - perHour);
    const lines = records.slice(start, start + perHour);
    await store.put(rawObjectKey(hour, writer, start + 1, start + perHour), gzipSync(lines.join('\n') + '\n'));
    out.set(hour, lines.length);
  }
  return out;
}
let offset = 0;

/** A raw object of `hour` that cannot be read: the first half of a gzip file. */
export async function writeCorrupt(store: LocalStore, hour: HourId): Promise<string> {
  const whole = gzipSync(captureRecords().slice(0, 50).join('\n') + '\n');
  const key = rawObjectKey(hour, 'broken', 1, 50);
  await store.put(key, whole.subarray(0, Math.floor(whole.length / 2)));
  return key;
}

/** A clock the test moves. */
export function fakeClock(startMs: number): { now: () => number; set(ms: number): void; advance(ms: number): void } {
  let t = startMs;
  return {
    now: () => t,
    set: (ms) => void (t = ms),
    advance: (ms) => void (t += ms),
  };
}

/** A lease holder of its own, so two schedulers can run in one test process. */
export function holder(name: string): LeaseHolder {
  return { id: `${name}-${randomUUID()}`, host: os.hostname(), pid: process.pid };
}

export const SETTINGS: ScheduleSettings = { everyMs: HOUR, graceMs: 5 * 60_000, maxAttempts: 3, retryInitialMs: 60_000, retryMaxMs: 10 * 60_000 };

/** A launcher that records which hours it was asked to run, then runs them as real ETL jobs. */
export class RecordingLauncher implements EtlLauncher {
  readonly calls: HourId[][] = [];
  constructor(private readonly inner: EtlLauncher) {}
  run(hours: readonly HourId[], signal?: AbortSignal) {
    this.calls.push([...hours]);
    return this.inner.run(hours, signal);
  }
  settle(signal?: AbortSignal) {
    return this.inner.settle(signal);
  }
}

/** A scheduler on the lake in `dir`: real job runner (jobs under the lake), real ETL (DuckDB), the given clock. */
export function scheduler(
  dir: string,
  now: () => number,
  overrides: Partial<SchedulerOptions> = {},
): SchedulerOptions & { launcher: RecordingLauncher; runner: LocalJobRunner } {
  const store = new LocalStore(dir);
  const runner = new LocalJobRunner({ dir: path.join(dir, STATE, 'jobs'), cwd: dir });
  const launcher = new RecordingLauncher(new JobEtlLauncher(runner, { lake: dir, engine: 'duckdb', pollMs: 100 }));
  return { store, launcher, runner, settings: SETTINGS, leaseTtlMs: 60_000, now, holder: holder('a'), ...overrides } as SchedulerOptions & {
    launcher: RecordingLauncher;
    runner: LocalJobRunner;
  };
}
