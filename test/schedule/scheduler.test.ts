import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readEtlState } from '../../src/etl/state.ts';
import { runQuery, toObjects } from '../../src/etl/query.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { runSchedule, scheduleTick, type TickResult } from '../../src/schedule/scheduler.ts';
import { readScheduleState } from '../../src/schedule/state.ts';
import type { TelemetryRecord } from '../../src/telemetry/telemetry.ts';
import { statsFromTelemetry } from '../../src/alerts/facts.ts';
import { checkAlerts, thresholdsOf } from '../../src/alerts/service.ts';
import { configSchema } from '../../src/config/schema.ts';
import { LocalTelemetry } from '../../src/telemetry/telemetry.ts';
import { tempDirs } from '../helpers/temp.ts';
import { captureRecords, fakeClock, holder, HOUR, hourAt, scheduler, SETTINGS, writeCorrupt, writeHours } from './lake.ts';

const tmp = tempDirs('oe-sched-');
const BASE = Date.UTC(2026, 0, 10, 0);
const MIN = 60_000;

function ran(result: TickResult): Extract<TickResult, { status: 'ran' | 'idle' }> {
  if (result.status === 'busy') throw new Error(`tick was busy (held by ${result.heldBy})`);
  return result;
}

/** Records in the curated `hours` table per hour, as `query` answers. */
async function curatedHours(store: LocalStore): Promise<Record<string, number>> {
  const rows = toObjects(await runQuery(store, 'SELECT arrival_hour, raw_records FROM hours ORDER BY arrival_hour'));
  return Object.fromEntries(rows.map((r) => [String(r.arrival_hour), Number(r.raw_records)]));
}

/** The alerts `openevents alerts` would print for the lake in `dir` at `now`, as "rule subject". */
async function alertsAt(dir: string, s: { runner: { list(): Promise<import('../../src/jobs/types.ts').JobRecord[]> } }, now: number): Promise<string[]> {
  const report = await checkAlerts(
    { store: new LocalStore(dir), latestStats: statsFromTelemetry(new LocalTelemetry(dir)), jobs: () => s.runner.list(), lookbackHours: 24, now: () => now },
    thresholdsOf(configSchema.parse({})),
  );
  return report.alerts.map((a) => `${a.rule} ${a.subject}`);
}

describe('the scheduler (injected clock, real lake, real ETL jobs)', () => {
  it('catches up a 6-hour gap after downtime: each closed hour once, oldest first, in one run; the open hour waits', async () => {
    const dir = tmp();
    const store = new LocalStore(dir);
    const clock = fakeClock(BASE + HOUR + 6 * MIN); // 01:06: hour 00 is closed (grace 5 min)
    const s = scheduler(dir, clock.now);
    const written = await writeHours(store, [hourAt(BASE, 0)]);

    // Given a scheduler that processed hour 00 ...
    expect(ran(await scheduleTick(s)).summary.done).toEqual([hourAt(BASE, 0)]);

    // ... and was down while hours 01-06 arrived, and hour 07 is still filling
    const gap = [1, 2, 3, 4, 5, 6].map((i) => hourAt(BASE, i));
    for (const [h, n] of await writeHours(store, [...gap, hourAt(BASE, 7)])) written.set(h, n);
    clock.set(BASE + 7 * HOUR + 6 * MIN);

    // When it ticks again
    const result = ran(await scheduleTick(s));

    // Then the six hours ran in one run, oldest first, and the open hour did not (interval 1 h)
    expect(s.launcher.calls).toEqual([[hourAt(BASE, 0)], gap]);
    expect(result.summary.done).toEqual(gap);
    expect(result.summary.failed).toEqual([]);
    // The ETL recorded each of them once, with the records written to it, and `query` answers them
    const etl = new Map((await readEtlState(store)).hours.map((h) => [h.hour, h]));
    expect([...etl.keys()].sort()).toEqual([hourAt(BASE, 0), ...gap]);
    for (const hour of [hourAt(BASE, 0), ...gap]) expect(etl.get(hour)).toMatchObject({ status: 'done', rawRecords: written.get(hour) });
    const finished = gap.map((h) => etl.get(h)!.finishedAt);
    expect([...finished].sort()).toEqual(finished);
    expect(await curatedHours(store)).toEqual(Object.fromEntries([hourAt(BASE, 0), ...gap].map((h) => [h, written.get(h)])));

    // And the next tick finds nothing to do
    clock.advance(30 * MIN);
    expect(ran(await scheduleTick(s)).status).toBe('idle');
    expect(s.launcher.calls).toHaveLength(2);

    // Each run is a job the monitor and `status` list: kind schedule, succeeded, the hours in its step
    const jobs = (await s.runner.list()).filter((j) => j.kind === 'schedule').reverse();
    expect(jobs.map((j) => j.state)).toEqual(['succeeded', 'succeeded']);
    expect(jobs[1]!.steps[0]!.argv.at(-1)).toBe(gap.join(','));
    expect(jobs[1]!.label).toBe(`scheduled etl ${gap[0]} … ${gap[5]} (6 hours)`);
  }, 240_000);

  it('two schedulers at once: one ticks, the other finds the lease held; every hour runs exactly once', async () => {
    const dir = tmp();
    const store = new LocalStore(dir);
    const hours = [0, 1, 2, 3].map((i) => hourAt(BASE, i));
    await writeHours(store, hours);
    const clock = fakeClock(BASE + 4 * HOUR + 6 * MIN);
    const a = scheduler(dir, clock.now, { holder: holder('a') });
    const b = scheduler(dir, clock.now, { holder: holder('b') });

    // When both tick at the same moment
    const results = await Promise.all([scheduleTick(a), scheduleTick(b)]);

    // Then one ran every hour and the other was told who holds the lease
    const busy = results.find((r) => r.status === 'busy');
    const worked = results.find((r) => r.status === 'ran');
    expect(busy).toMatchObject({ status: 'busy', heldBy: `pid ${process.pid} on host ${(await import('node:os')).hostname()}` });
    expect(worked && ran(worked).summary.done).toEqual(hours);

    // And ticking both again (one after the other, and at once) runs nothing more
    clock.advance(HOUR);
    expect(ran(await scheduleTick(b)).status).toBe('idle');
    const again = await Promise.all([scheduleTick(a), scheduleTick(b)]);
    for (const r of again) expect(['busy', 'idle']).toContain(r.status);
    expect([...a.launcher.calls, ...b.launcher.calls].flat().sort()).toEqual(hours);
    const jobs = [...(await a.runner.list())].filter((j) => j.kind === 'schedule');
    expect(jobs).toHaveLength(1);
  }, 240_000);

  it('retries a failing hour with backoff, gives up and says so (ERROR), while the hours after it still run; new raw data starts it over', async () => {
    const dir = tmp();
    const store = new LocalStore(dir);
    const hours = [0, 1, 2, 3].map((i) => hourAt(BASE, i));
    const bad = hourAt(BASE, 1);
    await writeHours(store, hours);
    const brokenKey = await writeCorrupt(store, bad);
    const clock = fakeClock(BASE + 4 * HOUR + 6 * MIN);
    const telemetry: TelemetryRecord[] = [];
    const s = scheduler(dir, clock.now, { telemetry: { emit: (r) => void telemetry.push({ ts: new Date(clock.now()).toISOString(), ...r }), close: async () => {} } });

    // Attempt 1: every hour runs, the broken one fails alone and is named
    let r = ran(await scheduleTick(s));
    expect(r.summary.done).toEqual(hours.filter((h) => h !== bad));
    expect(r.summary.failed).toMatchObject([{ hour: bad, attempts: 1, gaveUp: false }]);
    expect(r.summary.failed[0]!.error).toMatch(/unexpected end of file|incorrect header|gzip|unreadable|cannot be read/i);
    expect(r.nextRetryAtMs).toBe(clock.now() + SETTINGS.retryInitialMs);
    // While it is retried, no alert
    expect(await alertsAt(dir, s, clock.now())).toEqual([]);

    // Before its backoff ends it waits
    clock.advance(30_000);
    r = ran(await scheduleTick(s));
    expect(r.status).toBe('idle');
    expect(r.waiting).toMatchObject([{ hour: bad, attempts: 1 }]);

    // Attempt 2 once the backoff is over: only the failing hour runs, and fails again (backoff doubles)
    clock.advance(30_000);
    r = ran(await scheduleTick(s));
    expect(s.launcher.calls.at(-1)).toEqual([bad]);
    expect(r.summary.failed).toMatchObject([{ hour: bad, attempts: 2, gaveUp: false }]);
    expect(r.nextRetryAtMs).toBe(clock.now() + 2 * SETTINGS.retryInitialMs);

    // Attempt 3 with the next hour that arrived meanwhile: that one is done, the failing one is given up
    const later = hourAt(BASE, 4);
    await writeHours(store, [later]);
    clock.set(BASE + 5 * HOUR + 6 * MIN);
    r = ran(await scheduleTick(s));
    expect(s.launcher.calls.at(-1)).toEqual([bad, later]);
    expect(r.summary.done).toEqual([later]);
    expect(r.summary.failed).toMatchObject([{ hour: bad, attempts: 3, gaveUp: true }]);
    const errors = telemetry.filter((t) => t.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ component: 'schedule', data: { hour: bad, attempts: 3, rule: 'hour-failed' } });
    expect(telemetry.filter((t) => t.level === 'warn').map((t) => t.data?.hour)).toEqual([bad, bad]);
    expect((await readScheduleState(store)).retries[bad]).toMatchObject({ attempts: 3, gaveUp: true });
    // Given up: alerted
    expect(await alertsAt(dir, s, clock.now())).toEqual([`hour-failed ${bad}`]);

    // Given up: later hours keep running, the failing one is not tried again
    const next = hourAt(BASE, 5);
    await writeHours(store, [next]);
    clock.set(BASE + 6 * HOUR + 6 * MIN);
    r = ran(await scheduleTick(s));
    expect(s.launcher.calls.at(-1)).toEqual([next]);
    expect(r.summary.gaveUp).toEqual([bad]);

    // New raw data for it (the broken object replaced) starts it over, and it is done
    await store.put(brokenKey, gzipSync(captureRecords().slice(0, 50).join('\n') + '\n'));
    clock.advance(HOUR);
    r = ran(await scheduleTick(s));
    expect(s.launcher.calls.at(-1)).toEqual([bad]);
    expect(r.summary.done).toEqual([bad]);
    expect((await readScheduleState(store)).retries).toEqual({});
    expect(await alertsAt(dir, s, clock.now())).toEqual([]);
  }, 300_000);

  it('under an hour, the loop ticks on the interval and refreshes the open hour as it fills, so its rows are queryable within one interval', async () => {
    const dir = tmp();
    const store = new LocalStore(dir);
    const open = hourAt(BASE, 10);
    const clock = fakeClock(BASE + 10 * HOUR + 2 * MIN); // 10:02, hour 10 open
    await writeHours(store, [open], 10, 'w1');
    const ticks: Array<{ at: number; result: TickResult; next?: number }> = [];
    const stop = new AbortController();
    const s = scheduler(dir, clock.now, { settings: { ...SETTINGS, everyMs: 5 * MIN }, signal: stop.signal });
    const counts: number[] = [];

    await runSchedule({
      ...s,
      onTick: (result, next) => void ticks.push({ at: clock.now(), result, ...(next !== undefined ? { next } : {}) }),
      wait: async (ms) => {
        counts.push((await curatedHours(store))[open] ?? 0);
        clock.advance(ms);
        // More data arrives before the third tick; the loop ends after four
        if (ticks.length === 2) await writeHours(store, [open], 15, 'w2');
        if (ticks.length === 4) stop.abort();
      },
    });

    // Ticks on the 5-minute marks after the first
    expect(ticks.map((t) => new Date(t.at).toISOString().slice(11, 16))).toEqual(['10:02', '10:05', '10:10', '10:15']);
    expect(ticks.map((t) => (t.result.status === 'busy' ? 'busy' : t.result.summary.open.join(',')))).toEqual([open, '', open, '']);
    // The open hour's rows were queryable after the tick that saw them
    expect(counts).toEqual([10, 10, 25, 25]);
  }, 240_000);
});
