import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { Monitor } from '../../src/tui/components/Monitor.tsx';
import { fakeHours, fakePipeline, recordingRunner, waitFor } from '../helpers/tui-fake.ts';

const NOW = Date.now();
const KEY = { up: '\u001B[A', down: '\u001B[B', left: '\u001B[D', right: '\u001B[C', tab: '\t', enter: '\r', escape: '\u001B' };

afterEach(() => cleanup());

function mount(fake = fakePipeline(NOW), options: { readonly?: boolean; size?: { columns: number; rows: number } } = {}) {
  const runner = recordingRunner();
  let quit = 0;
  const app = render(
    <Monitor
      sources={fake.sources}
      runner={runner}
      readonly={options.readonly ?? false}
      refreshMs={50}
      size={options.size ?? { columns: 120, rows: 40 }}
      onQuit={() => (quit += 1)}
    />,
  );
  const frame = (): string => app.lastFrame() ?? '';
  const until = (text: string | RegExp) =>
    waitFor(
      () => (typeof text === 'string' ? frame().includes(text) : text.test(frame())),
      () => `${String(text)} in frame:\n${frame()}`,
    );
  return { app, fake, runner, frame, until, quits: () => quit };
}

describe('monitor panes', () => {
  it('shows the stream state, counters and sparkline, the lake grid, jobs and logs', async () => {
    const fake = fakePipeline(NOW);
    fake.stream = {
      state: 'running',
      eventsPerSec: 212,
      events: 12345,
      reconnects: 3,
      invalid: 7,
      duplicates: 11,
      lastEventAgeMs: 1500,
      history: [
        { atMs: NOW - 60_000, eventsPerSec: 10 },
        { atMs: NOW - 1000, eventsPerSec: 212 },
      ],
    };
    fake.lake = fakeHours(NOW, { 22: { files: 3, records: 1500, bytes: 2048, etl: 'done', closed: true }, 23: { files: 1, records: 42, bytes: 100 } });
    fake.jobs = [{ id: 'j2', kind: 'etl', label: 'etl 2026-11-28T01', state: 'failed', runner: 'local', startedAtMs: NOW - 5000, endedAtMs: NOW - 2000, reason: 'exit code 1 — no raw data' }];
    fake.logs = { lines: [{ ts: '2026-11-28T06:01:02.000Z', level: 'error', component: 'etl', kind: 'log', msg: 'hour failed' }] };
    const { until, frame } = mount(fake);
    await until('212 ev/s');
    const f = frame();
    expect(f).toContain('● running');
    expect(f).toContain('events 12,345');
    expect(f).toContain('reconnects 3  invalid 7  dup 11');
    expect(f).toContain('lag 1s');
    expect(f).toMatch(/[▁▂▃▄▅▆▇]+.*█/); // the sparkline: a low sample then the peak
    expect(f).toMatch(/done\s+3f\s+1\.5k\s+2\.0K/);
    expect(f).toMatch(/▶\d\d waiting\s+1f\s+42/); // the newest hour is selected
    expect(f).toContain('failed    etl 2026-11-28T01');
    expect(f).toContain('06:01:02 ERR etl');
  });

  it('shows a failing source as stale with its error while the other panes keep working', async () => {
    const fake = fakePipeline(NOW);
    fake.jobs = new Error('EMR: access denied');
    fake.logs = { lines: [{ ts: '2026-11-28T06:01:02.000Z', level: 'info', component: 'stream', kind: 'log', msg: 'still here' }] };
    const { until, frame } = mount(fake);
    await until('STALE');
    expect(frame()).toMatch(/Jobs \(0\) STALE: EMR: access denied/);
    expect(frame()).toContain('still here');
  });

  it('moves the selection with arrows, shows the detail line, and runs ETL for the selected hour on e', async () => {
    const fake = fakePipeline(NOW);
    fake.lake = fakeHours(NOW, { 21: { files: 2, records: 10, bytes: 10 } });
    const { until, frame, runner, app } = mount(fake);
    await until('no raw data');
    const target = (fake.lake as ReturnType<typeof fakeHours>)[21]!.hour;
    app.stdin.write(KEY.up);
    app.stdin.write(KEY.up);
    await until(`${target}  2 files  10 records`);
    app.stdin.write('e');
    await waitFor(() => runner.ran.length === 1, () => 'the ETL request');
    expect(runner.ran[0]).toEqual({ kind: 'etl', hour: target });
    await until('started (job j1)');
    expect(frame()).toContain('started (job j1)');
  });

  it('asks y/N before publishing; n declines (audited), y runs', async () => {
    const { until, runner, app } = mount();
    await until('no jobs yet');
    app.stdin.write('p');
    await until('[y/N]');
    app.stdin.write('n');
    await waitFor(() => runner.refused.length === 1, () => 'the refusal to be recorded');
    expect(runner.ran).toEqual([]);
    expect(runner.refused).toEqual([[{ kind: 'publish' }, 'declined at the y/N prompt']]);
    app.stdin.write('p');
    await until('[y/N]');
    app.stdin.write('y');
    await waitFor(() => runner.ran.length === 1, () => 'publish to run');
    expect(runner.ran).toEqual([{ kind: 'publish' }]);
  });

  it('handles keys typed faster than frames render', async () => {
    const { until, runner, app } = mount();
    await until('no jobs yet');
    // Given '/' then 's' in the same tick: the 's' belongs to the filter, not the streamer
    app.stdin.write('/');
    app.stdin.write('s');
    app.stdin.write(KEY.enter);
    app.stdin.write('p');
    app.stdin.write('y');
    await waitFor(() => runner.ran.length === 1, () => 'publish to run');
    expect(runner.ran).toEqual([{ kind: 'publish' }]);
    expect(app.lastFrame()).toContain('filter: "s"');
  });

  it('runs nothing when read-only and says so', async () => {
    const { until, runner, app, frame } = mount(fakePipeline(NOW), { readonly: true });
    await until('READ-ONLY');
    app.stdin.write('s');
    await until('actions are disabled');
    expect(runner.ran).toEqual([]);
    expect(frame()).not.toContain('s start stream');
  });

  it('filters the logs with /, opens help with ?, moves focus with tab and quits on q', async () => {
    const fake = fakePipeline(NOW);
    fake.logs = {
      lines: [
        { ts: '2026-11-28T06:00:00Z', level: 'info', component: 'stream', kind: 'log', msg: 'connected to source' },
        { ts: '2026-11-28T06:00:01Z', level: 'warn', component: 'etl', kind: 'log', msg: 'slow hour' },
      ],
    };
    const { until, frame, app, quits } = mount(fake);
    await until('connected to source');
    app.stdin.write('/');
    for (const ch of 'slow') app.stdin.write(ch);
    await until('filter: /slow');
    app.stdin.write(KEY.enter);
    await until('filter: "slow" (1/2)');
    expect(frame()).not.toContain('connected to source');
    app.stdin.write('?');
    await until('Help');
    expect(frame()).toContain('backfill every failed or late hour');
    app.stdin.write('?');
    await until('▶ Logs'); // the filter moved focus to the logs
    app.stdin.write(KEY.tab);
    await until('▶ Stream');
    app.stdin.write('q');
    await waitFor(() => quits() === 1, () => 'quit');
  });

  it('fits 80×24: no line wider than 80, fewer than 24 lines, all 24 hours visible', async () => {
    const fake = fakePipeline(NOW);
    fake.lake = fakeHours(NOW, { 0: { files: 1, records: 5, bytes: 5, etl: 'failed' }, 23: { files: 1, records: 5, bytes: 5 } });
    fake.logs = { lines: [{ ts: '2026-11-28T06:00:00Z', level: 'info', component: 'stream', kind: 'log', msg: 'x'.repeat(300) }] };
    const { until, frame } = mount(fake, { size: { columns: 80, rows: 24 } });
    await until('FAIL');
    const lines = frame().split('\n');
    expect(lines.length).toBeLessThan(24);
    expect(Math.max(...lines.map((l) => [...l].length))).toBeLessThanOrEqual(80);
    const hours = (fake.lake as ReturnType<typeof fakeHours>).map((h) => h.hour.slice(11, 13));
    for (const hh of hours) expect(frame()).toMatch(new RegExp(`[ ▶]${hh} `));
  });
});
