import { mkdtempSync, rmSync, appendFileSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { createLocalPipeline } from '../../src/tui/model/local.ts';
import { refreshSnapshot } from '../../src/tui/model/snapshot.ts';
import { hourDetail, lakeCell } from '../../src/tui/state/lake-view.ts';
import { LocalTelemetryFeed } from '../../src/tui/model/telemetry-feed.ts';
import type { PipelineSources } from '../../src/tui/model/sources.ts';
import { hourBefore, writeEtlHour, writeRawHour, writeStreamStats, writeTelemetry } from '../helpers/tui-lake.ts';

let lake: string;
beforeEach(() => {
  lake = mkdtempSync(path.join(tmpdir(), 'oe-tui-src-'));
});
afterEach(() => rmSync(lake, { recursive: true, force: true }));

const config = (dir: string) => loadConfig({ env: {}, cwd: dir, overrides: { lake: dir } });

describe('local telemetry feed', () => {
  it('returns each record once, including lines appended after a poll, and waits for a line being written', async () => {
    // Given a stats file with two records
    const now = Date.now();
    writeStreamStats(lake, now - 2000, { eventsPerSec: 1 });
    writeStreamStats(lake, now - 1000, { eventsPerSec: 2 });
    const feed = new LocalTelemetryFeed(path.join(lake, '_telemetry'));
    expect((await feed.poll()).map((r) => r.data?.eventsPerSec)).toEqual([1, 2]);
    // When nothing changed, then nothing new
    expect(await feed.poll()).toEqual([]);
    // When half a line is written, it is not returned until its newline lands
    const file = path.join(lake, '_telemetry', new Date(now).toISOString().slice(0, 10), 'stream.jsonl');
    const line = JSON.stringify({ ts: new Date(now).toISOString(), level: 'info', component: 'stream', kind: 'stats', msg: '', data: { eventsPerSec: 3 } });
    appendFileSync(file, line.slice(0, 20));
    expect(await feed.poll()).toEqual([]);
    appendFileSync(file, line.slice(20) + '\n');
    expect((await feed.poll()).map((r) => r.data?.eventsPerSec)).toEqual([3]);
  });

  it('reads only the tail of a large file on the first poll', async () => {
    const now = Date.now();
    for (let i = 0; i < 3000; i++) writeStreamStats(lake, now - 3000 + i, { eventsPerSec: i });
    const feed = new LocalTelemetryFeed(path.join(lake, '_telemetry'), { backlogBytes: 16 * 1024 });
    const records = await feed.poll();
    expect(records.length).toBeGreaterThan(10);
    expect(records.length).toBeLessThan(3000);
    // The newest record is there and the first is whole (no cut line)
    expect(records.at(-1)?.data?.eventsPerSec).toBe(2999);
    expect(typeof records[0]?.data?.eventsPerSec).toBe('number');
  });
});

describe('local pipeline sources', () => {
  it('shows stream stats, the lake grid with ETL state and logs from a real lake folder', async () => {
    // Given a lake with raw hours, ETL state, stream stats and log lines
    const now = Date.now();
    writeRawHour(lake, hourBefore(now, 3), 120, { manifest: true });
    writeRawHour(lake, hourBefore(now, 2), 40, { first: 1 });
    writeRawHour(lake, hourBefore(now, 2), 60, { first: 41 });
    writeEtlHour(lake, hourBefore(now, 3), 'done');
    writeStreamStats(lake, now - 500, { eventsPerSec: 210, events: 5000, reconnects: 2, invalid: 1, duplicates: 4, lastEventAgeMs: 100, state: 'running' });
    writeTelemetry(lake, { ts: new Date(now).toISOString(), level: 'warn', component: 'stream', kind: 'log', msg: 'stall \u001b[2Jdetected' });
    const { sources } = await createLocalPipeline({ config: config(lake), cwd: lake });

    // When the snapshot is taken
    const snap = await refreshSnapshot(sources);

    // Then each pane has its data
    expect(snap.panes.stream.data).toMatchObject({ state: 'running', eventsPerSec: 210, events: 5000, reconnects: 2, invalid: 1, duplicates: 4 });
    const hours = snap.panes.lake.data!.hours;
    const h3 = hours.find((h) => h.hour === hourBefore(now, 3));
    const h2 = hours.find((h) => h.hour === hourBefore(now, 2));
    expect(h3).toMatchObject({ files: 1, records: 120, closed: true, etl: 'done' });
    // Records of an open hour come from the object names (40 + 60)
    expect(h2).toMatchObject({ files: 2, records: 100, closed: false, etl: 'waiting', late: true });
    expect(hours.find((h) => h.hour === hourBefore(now, 1))?.missing).toBe(false);
    expect(snap.panes.logs.data!.lines.map((l) => l.msg)).toEqual(['stall detected']);
  });

  it('fills the open hour as events arrive: records the streamer holds count before their file is published', async () => {
    // Given a running streamer that accepted 500 events and made none durable yet (its first file is open)
    const now = Date.now();
    const current = hourBefore(now, 0);
    writeStreamStats(lake, now - 300, { eventsPerSec: 100, events: 500, durable: 0, state: 'running' });
    const { sources } = await createLocalPipeline({ config: config(lake), cwd: lake });
    const open = (await refreshSnapshot(sources)).panes.lake.data!.hours.at(-1)!;
    // Then the current hour is filling, not "no data"
    expect(open).toMatchObject({ hour: current, files: 0, inFlight: 500, missing: false });
    expect(lakeCell(open, true, false, 34)).toMatch(/filling\s+0f\s+\+500/);
    expect(hourDetail(open)).toContain('+500 received, not written yet');

    // When the first file (records 1–200) is published and the streamer holds 450 more
    const key = writeRawHour(lake, current, 200);
    writeStreamStats(lake, now - 100, { eventsPerSec: 100, events: 650, durable: 200, state: 'running' });
    const filled = (await refreshSnapshot(sources)).panes.lake.data!.hours.at(-1)!;
    // Then the hour has the file, its arrival time, and what is still in flight
    const mtime = statSync(path.join(lake, key)).mtimeMs;
    expect(filled).toMatchObject({ files: 1, records: 200, inFlight: 450, firstArrivalMs: mtime, lastArrivalMs: mtime, closed: false });
    expect(lakeCell(filled, false, false, 34)).toMatch(/ 650 .* fill/);

    // When the streamer stops (its last record: everything flushed), nothing is in flight
    writeStreamStats(lake, now, { eventsPerSec: 0, events: 650, durable: 650, state: 'stopped' });
    const stopped = (await refreshSnapshot(sources)).panes.lake.data!.hours.at(-1)!;
    expect(stopped.inFlight).toBeUndefined();
  });

  it('gives a closed hour its arrival times from its objects, listed once per manifest', async () => {
    const now = Date.now();
    const hour = hourBefore(now, 3);
    const key = writeRawHour(lake, hour, 120, { manifest: true });
    const mtime = statSync(path.join(lake, key)).mtimeMs;
    const { sources } = await createLocalPipeline({ config: config(lake), cwd: lake });
    const h = (await refreshSnapshot(sources)).panes.lake.data!.hours.find((x) => x.hour === hour)!;
    expect(h).toMatchObject({ closed: true, records: 120, firstArrivalMs: mtime, lastArrivalMs: mtime });
    expect(hourDetail(h)).toContain(`arrived ${new Date(mtime).toISOString().slice(11, 19)}Z–`);

    // A late file rewrites the manifest: the next refresh reads it again (an unchanged one is not re-read)
    await new Promise((r) => setTimeout(r, 20));
    writeRawHour(lake, hour, 30, { writer: 'w2', manifest: true });
    const again = (await refreshSnapshot(sources)).panes.lake.data!.hours.find((x) => x.hour === hour)!;
    expect(again).toMatchObject({ closed: true, files: 1, records: 30 });
    expect(again.lastArrivalMs).toBeGreaterThanOrEqual(mtime);
  });

  it('marks a failing source stale with its error, keeps its last data, and leaves the others alone', async () => {
    const now = Date.now();
    writeRawHour(lake, hourBefore(now, 0), 5);
    const { sources } = await createLocalPipeline({ config: config(lake), cwd: lake });
    const first = await refreshSnapshot(sources);
    expect(first.panes.lake.stale).toBe(false);
    // When the lake source starts failing
    const broken: PipelineSources = { ...sources, lake: { fetch: () => Promise.reject(new Error('EACCES: \u001b[31mpermission denied')) } };
    const second = await refreshSnapshot(broken, first);
    // Then the lake pane is stale with the (escaped) error and its previous hours
    expect(second.panes.lake).toMatchObject({ stale: true, error: 'EACCES: permission denied' });
    expect(second.panes.lake.data?.hours).toEqual(first.panes.lake.data?.hours);
    expect(second.panes.jobs.stale).toBe(false);
    // A source that never answers times out instead of holding up the refresh
    const hung: PipelineSources = { ...sources, jobs: { fetch: () => new Promise(() => {}) } };
    const third = await refreshSnapshot(hung, second, Date.now, 200);
    expect(third.panes.jobs).toMatchObject({ stale: true, error: expect.stringMatching(/no answer/) });
  });

  it('says the streamer stopped when its stats go quiet, and shows events/s history', async () => {
    const now = Date.now();
    for (let i = 10; i >= 1; i--) writeStreamStats(lake, now - 60_000 - i * 5000, { eventsPerSec: i * 10, state: 'running' });
    const { sources } = await createLocalPipeline({ config: config(lake), cwd: lake });
    const snap = await refreshSnapshot(sources);
    expect(snap.panes.stream.data?.state).toBe('stopped');
    expect(snap.panes.stream.data?.quiet).toBe(true);
    expect(snap.panes.stream.data?.history.map((h) => h.eventsPerSec)).toEqual([100, 90, 80, 70, 60, 50, 40, 30, 20, 10]);
  });

  it('reads the lake through the ObjectStore interface (an empty lake is no error)', async () => {
    mkdirSync(path.join(lake, 'raw'), { recursive: true });
    const { sources } = await createLocalPipeline({ config: config(lake), cwd: lake, store: new LocalStore(lake) });
    const snap = await refreshSnapshot(sources);
    expect(snap.panes.lake).toMatchObject({ stale: false });
    expect(snap.panes.lake.data?.hours.every((h) => h.files === 0 && !h.missing && !h.late)).toBe(true);
  });
});
