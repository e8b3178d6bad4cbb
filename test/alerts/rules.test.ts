import { promises as fs } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { statsFromTelemetry } from '../../src/alerts/facts.ts';
import type { Alert, AlertRule } from '../../src/alerts/rules.ts';
import { checkAlerts, thresholdsOf } from '../../src/alerts/service.ts';
import { configSchema } from '../../src/config/schema.ts';
import { runEtl } from '../../src/etl/run.ts';
import { LocalJobRunner } from '../../src/jobs/local.ts';
import { closeHour } from '../../src/lake/manifest.ts';
import { hourIdOf, rawHourPrefix, rawObjectKey, STATE, type HourId } from '../../src/lake/layout.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import type { StreamStats } from '../../src/stream/streamer.ts';
import { LocalTelemetry } from '../../src/telemetry/telemetry.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp.ts';
import { captureRecords, HOUR, hourAt, writeCorrupt, writeHours } from '../schedule/lake.ts';
import path from 'node:path';

const tmp = tempDirs('oe-alerts-');
const DAY = Date.UTC(2026, 0, 10, 0);
const MIN = 60_000;
/** The default thresholds: late after 30 min, silent after 2 min, stalled after 10 min, 5 % of ≥ 100 records, lag 5 min. */
const T = thresholdsOf(configSchema.parse({}));

interface Lake {
  dir: string;
  store: LocalStore;
  runner: LocalJobRunner;
  telemetry(now: number): LocalTelemetry;
  /** The alerts at `now`. */
  alerts(now: number): Promise<Alert[]>;
  /** The alerts of one rule at `now`, as "subject: message". */
  fired(rule: AlertRule, now: number): Promise<string[]>;
}

function lake(): Lake {
  const dir = tmp();
  const store = new LocalStore(dir);
  const runner = new LocalJobRunner({ dir: path.join(dir, STATE, 'jobs'), cwd: dir });
  const alerts = async (now: number): Promise<Alert[]> =>
    (
      await checkAlerts(
        { store, latestStats: statsFromTelemetry(new LocalTelemetry(dir)), jobs: () => runner.list(), lookbackHours: 24, now: () => now },
        T,
      )
    ).alerts;
  return {
    dir,
    store,
    runner,
    telemetry: (now) => new LocalTelemetry(dir, { now: () => now }),
    alerts,
    fired: async (rule, now) => (await alerts(now)).filter((a) => a.rule === rule).map((a) => `${a.subject}: ${a.message}`),
  };
}

const at = (h: number, m = 0, s = 0): number => DAY + h * HOUR + m * MIN + s * 1000;

/** Streamer stats as the streamer writes them (typed by its StreamStats). */
function streamStats(state: StreamStats['state'], lastEventAgeMs: number | null): StreamStats {
  return { eventsPerSec: 3, bytesPerSec: 3000, events: 100, durable: 100, bytes: 100_000, reconnects: 0, invalid: 0, duplicates: 0, setAside: 0, cutOff: 0, files: 2, lastEventAgeMs, highestMtime: null, state };
}

describe('alert rules on real lake and telemetry states', () => {
  it('hour-late: raw data no ETL has processed 30 min after its hour ended; quiet before that, for the open hour, and once processed', async () => {
    const l = lake();
    const late = hourAt(DAY, 10);
    await writeHours(l.store, [late, hourAt(DAY, 12)]);

    expect(await l.fired('hour-late', at(11, 29))).toEqual([]);
    expect(await l.fired('hour-late', at(12, 31))).toEqual([`${late}: ${late} has 1 raw object(s) but no ETL run (and no manifest: its writer has not closed it), 91 min after it ended`]);

    // Closed and processed: quiet (its object arrived at 10:30)
    for (const name of await fs.readdir(path.join(l.dir, rawHourPrefix(late)))) await fs.utimes(path.join(l.dir, rawHourPrefix(late), name), at(10, 30) / 1000, at(10, 30) / 1000);
    await closeHour(l.store, late, at(11, 5));
    await runEtl(l.store, { select: { hours: [late] } });
    expect(await l.fired('hour-late', at(12, 31))).toEqual([]);

    // Data that arrives later into the processed hour is late again 30 min after it arrived
    const key = rawObjectKey(late, 'w2', 1, 5);
    await l.store.put(key, gzipSync(captureRecords().slice(0, 5).join('\n') + '\n'));
    const arrived = at(13, 0);
    await fs.utimes(path.join(l.dir, key), arrived / 1000, arrived / 1000);
    expect(await l.fired('hour-late', at(13, 20))).toEqual([]);
    expect(await l.fired('hour-late', at(13, 40))).toEqual([
      `${late}: ${late} has raw data newer than its last ETL run, 40 min after it arrived`,
      `${hourAt(DAY, 12)}: ${hourAt(DAY, 12)} has 1 raw object(s) but no ETL run (and no manifest: its writer has not closed it), 40 min after it ended`,
    ]);
  }, 120_000);

  it('hour-missing: hours without raw data between hours with data, as one alert per run; after the last data only while the streamer runs', async () => {
    const l = lake();
    await writeHours(l.store, [hourAt(DAY, 5), hourAt(DAY, 6), hourAt(DAY, 9)]);
    const now = at(12, 30);

    // Hours 07-08 are a gap; 00-04 come before any data, 10-11 after the last (no streamer): not missing
    expect(await l.fired('hour-missing', now)).toEqual([`${hourAt(DAY, 7)}…${hourAt(DAY, 8)}: 2 hours have no raw data: ${hourAt(DAY, 7)} … ${hourAt(DAY, 8)}`]);

    // A streamer reporting now makes the hours since the last data missing too (not the open hour 12)
    l.telemetry(at(12, 29)).emit({ level: 'info', component: 'stream', kind: 'stats', msg: 'stream stats', data: { ...streamStats('running', 500) } });
    expect(await l.fired('hour-missing', now)).toEqual([
      `${hourAt(DAY, 7)}…${hourAt(DAY, 8)}: 2 hours have no raw data: ${hourAt(DAY, 7)} … ${hourAt(DAY, 8)}`,
      `${hourAt(DAY, 10)}…${hourAt(DAY, 11)}: 2 hours have no raw data: ${hourAt(DAY, 10)} … ${hourAt(DAY, 11)}`,
    ]);

    // The gap filled: quiet
    await writeHours(l.store, [hourAt(DAY, 7), hourAt(DAY, 8), hourAt(DAY, 10), hourAt(DAY, 11)]);
    expect(await l.fired('hour-missing', now)).toEqual([]);
  }, 60_000);

  it('hour-failed: an hour whose ETL failed (named with its error) until a rerun succeeds', async () => {
    const l = lake();
    const hour = hourAt(DAY, 3);
    await writeHours(l.store, [hour, hourAt(DAY, 4)]);
    const broken = await writeCorrupt(l.store, hour);
    await runEtl(l.store, { select: { hours: [hour, hourAt(DAY, 4)] } });

    const fired = await l.fired('hour-failed', at(12));
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatch(new RegExp(`^${hour}: ${hour} failed: .*(unexpected end of file|gzip)`, 'i'));
    // Failed is not late
    expect(await l.fired('hour-late', at(12))).toEqual([]);

    await l.store.delete(broken);
    await runEtl(l.store, { select: { hours: [hour] } });
    expect(await l.fired('hour-failed', at(12))).toEqual([]);
  }, 120_000);

  it('job-failed: the newest run of some work failed and recorded nothing else; quiet once the same work succeeds, and for an ETL job whose hours speak for themselves', async () => {
    const l = lake();
    // A publish job fails for real (no report built yet)
    const publish = { kind: 'report', label: 'report publish', steps: [{ label: 'report publish', args: ['report', 'publish', '--lake', l.dir] }] };
    const failing = await l.runner.start(publish);
    const ended = await l.runner.wait(failing.id, { timeoutMs: 60_000 });
    expect(ended.state).toBe('failed');
    const now = Date.parse(ended.endedAt!) + MIN;
    const fired = await l.fired('job-failed', now);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toContain(`${failing.id}: job ${failing.id} (report publish) failed: report publish: exit code 1 — hint: Run: openevents report build`);
    expect(fired[0]).toContain(`(log: ${ended.logFile})`);

    // An ETL job on an hour that fails: the ETL recorded the hour, so hour-failed speaks, not job-failed
    const hour = hourIdOf(Date.now() - 2 * HOUR);
    await writeCorrupt(l.store, hour);
    const etl = await l.runner.start({ kind: 'etl', label: `etl ${hour}`, steps: [{ label: `etl ${hour}`, args: ['etl', '--lake', l.dir, '--hour', hour], hour }] });
    expect((await l.runner.wait(etl.id, { timeoutMs: 120_000 })).state).toBe('failed');
    expect((await l.alerts(now)).filter((a) => a.subject === etl.id)).toEqual([]);
    expect(await l.fired('hour-failed', now)).toHaveLength(1);

    // A chain whose ETL step succeeds and whose publish step (no hour) fails: the recorded hour does not make it good
    const good = hourIdOf(Date.now() - 3 * HOUR);
    await writeHours(l.store, [good]);
    const chain = await l.runner.start({
      kind: 'rerun',
      label: `rerun ${good}`,
      steps: [{ label: `etl ${good}`, args: ['etl', '--lake', l.dir, '--hour', good], hour: good }, publish.steps[0]!],
    });
    const chainEnd = await l.runner.wait(chain.id, { timeoutMs: 120_000 });
    expect(chainEnd.steps.map((s) => s.state)).toEqual(['succeeded', 'failed']);
    expect((await l.alerts(now)).filter((a) => a.subject === chain.id).map((a) => a.rule)).toEqual(['job-failed']);

    // The same work run again and succeeding: quiet
    expect((await runCli(['report', 'build', '--lake', l.dir])).code).toBe(0);
    const again = await l.runner.start(publish);
    expect((await l.runner.wait(again.id, { timeoutMs: 120_000 })).state).toBe('succeeded');
    // (the chain above is other work: it still fires)
    expect((await l.fired('job-failed', now + MIN)).filter((a) => !a.startsWith(`${chain.id}:`))).toEqual([]);
  }, 300_000);

  it('quarantine-rate: an hour whose ETL quarantined more than 5% of at least 100 records', async () => {
    const l = lake();
    const records = captureRecords();
    const hours: HourId[] = [hourAt(DAY, 1), hourAt(DAY, 2), hourAt(DAY, 3)];
    const write = async (hour: HourId, valid: number, bad: number): Promise<void> => {
      const lines = [...records.slice(0, valid), ...Array.from({ length: bad }, (_, i) => `not json ${i}`)];
      await l.store.put(rawObjectKey(hour, 'w1', 1, lines.length), gzipSync(lines.join('\n') + '\n'));
    };
    await write(hours[0]!, 180, 20); // 10 % of 200: fires
    await write(hours[1]!, 196, 4); // 2 %: quiet
    await write(hours[2]!, 40, 40); // 50 % of 80 records: too few to judge
    await runEtl(l.store, { select: { hours } });

    expect(await l.fired('quarantine-rate', at(12))).toEqual([`${hours[0]}: ${hours[0]}: 10% of 200 records quarantined (20; bound 5.0%)`]);
  }, 120_000);

  it('stream-silent and stream-stalled from the streamer\'s stats; lander-lag and a silent lander from the lander\'s', async () => {
    const l = lake();
    const now = at(12, 30);
    const stats = (t: number, component: 'stream' | 'land', data: Record<string, unknown>): void =>
      l.telemetry(t).emit({ level: 'info', component, kind: 'stats', msg: `${component} stats`, data });

    // No telemetry at all: nothing to say
    expect(await l.alerts(now)).toEqual([]);

    // A streamer that reported a minute ago and got an event a second before: quiet
    stats(at(12, 29), 'stream', { ...streamStats('running', 1000) });
    expect(await l.alerts(now)).toEqual([]);
    // Three minutes without stats: silent
    expect(await l.fired('stream-silent', at(12, 32))).toEqual([
      'stream: the streamer has sent no stats for 3 min (last at 2026-01-10T12:29:00.000Z, state running): it died or cannot write telemetry',
    ]);
    // Reporting, but its last event 11 minutes old: stalled (not silent)
    stats(at(12, 29, 30), 'stream', { ...streamStats('reconnecting', 11 * MIN) });
    expect((await l.alerts(now)).map((a) => `${a.rule} ${a.message}`)).toEqual(['stream-stalled the streamer is reconnecting but has received no event for 12 min']);
    // Stopped on purpose: neither, however long ago
    stats(at(12, 29, 40), 'stream', { ...streamStats('stopped', 11 * MIN) });
    expect(await l.alerts(at(18))).toEqual([]);

    // The lander 10 minutes behind its stream: lag; 10 s behind: quiet; no stats for 3 min: silent
    stats(at(12, 29), 'land', { stream: 'openevents', lagMs: 10 * MIN, state: 'running' });
    expect(await l.fired('lander-lag', now)).toEqual(['land: the lander trails stream openevents by 10 min (bound 5 min)']);
    stats(at(12, 29, 50), 'land', { stream: 'openevents', lagMs: 10_000, state: 'running' });
    expect(await l.alerts(now)).toEqual([]);
    expect((await l.alerts(at(12, 33))).map((a) => `${a.rule} ${a.subject}`)).toEqual(['stream-silent land']);
  }, 60_000);
});
