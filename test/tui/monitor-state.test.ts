import { describe, expect, it } from 'vitest';
import { initialState, monitorReducer, requestForKey, availableKeys, selectedLakeHour, visibleLogs, type MonitorState } from '../../src/tui/state/monitor-state.ts';
import { monitorLayout } from '../../src/tui/state/layout.ts';
import { keyLine } from '../../src/tui/components/Footer.tsx';
import type { LakeHour, PipelineSnapshot } from '../../src/tui/model/types.ts';
import { hourIdOf } from '../../src/lake/layout.ts';
import { fakeHours } from '../helpers/tui-fake.ts';

const NOW = Date.UTC(2026, 10, 28, 6, 30);

const hours = (overrides: Record<number, Partial<LakeHour>> = {}): LakeHour[] => fakeHours(NOW, overrides);

function snapshot(lakeHours: LakeHour[], extra: Partial<PipelineSnapshot['panes']> = {}): PipelineSnapshot {
  return {
    atMs: NOW,
    profile: 'local',
    lake: './lake',
    panes: {
      stream: { stale: false, data: { state: 'stopped', history: [] } },
      lake: { stale: false, data: { url: 'file:///lake', hours: lakeHours } },
      jobs: { stale: false, data: [] },
      logs: {
        stale: false,
        data: {
          lines: [
            { ts: '2026-11-28T06:00:00Z', level: 'info', component: 'stream', kind: 'log', msg: 'connected' },
            { ts: '2026-11-28T06:01:00Z', level: 'error', component: 'etl', kind: 'log', msg: 'Hour FAILED' },
            { ts: '2026-11-28T06:02:00Z', level: 'warn', component: 'stream', kind: 'log', msg: 'stall' },
          ],
        },
      },
      ...extra,
    },
  };
}

const reduce = (state: MonitorState, ...actions: Parameters<typeof monitorReducer>[1][]): MonitorState => actions.reduce(monitorReducer, state);

describe('monitor reducer', () => {
  it('cycles focus through the panes with tab and back with shift+tab', () => {
    // Given a fresh monitor (focus on the lake)
    const state = initialState(snapshot(hours()));
    expect(state.focus).toBe('lake');
    // When tab is pressed four times, then shift+tab once
    const order = [state.focus];
    let s = state;
    for (let i = 0; i < 4; i++) order.push((s = monitorReducer(s, { type: 'focus-next' })).focus);
    // Then every pane is visited and focus comes back; shift+tab goes back one
    expect(new Set(order).size).toBe(4);
    expect(order[4]).toBe('lake');
    expect(monitorReducer(s, { type: 'focus-prev' }).focus).toBe(order[3]);
  });

  it('selects the newest hour first and moves by one hour up/down and by a grid column left/right', () => {
    const h = hours();
    const state = initialState(snapshot(h));
    expect(selectedLakeHour(state)?.hour).toBe(h[23]!.hour);
    const up = reduce(state, { type: 'move', dx: 0, dy: -1, gridRows: 8 });
    expect(selectedLakeHour(up)?.hour).toBe(h[22]!.hour);
    const left = reduce(up, { type: 'move', dx: -1, dy: 0, gridRows: 8 });
    expect(selectedLakeHour(left)?.hour).toBe(h[14]!.hour);
    // Moving past the edges stays on the grid
    const far = reduce(left, { type: 'move', dx: -1, dy: 0, gridRows: 8 }, { type: 'move', dx: -1, dy: 0, gridRows: 8 });
    expect(selectedLakeHour(far)?.hour).toBe(h[0]!.hour);
  });

  it('keeps the selected hour across refreshes and falls back to the newest when it leaves the grid', () => {
    const h = hours();
    const state = reduce(initialState(snapshot(h)), { type: 'move', dx: 0, dy: -1, gridRows: 8 });
    const same = reduce(state, { type: 'snapshot', snapshot: snapshot(h) });
    expect(selectedLakeHour(same)?.hour).toBe(h[22]!.hour);
    // When the grid moves on by 23 hours, the selected hour is gone
    const later = h.map((x, i) => ({ ...x, hour: hourIdOf(NOW + (i + 1) * 3_600_000) }));
    const moved = reduce(state, { type: 'snapshot', snapshot: snapshot(later) });
    expect(selectedLakeHour(moved)?.hour).toBe(later[23]!.hour);
  });

  it('filters logs while typing, applies on enter, and restores on escape', () => {
    const state = initialState(snapshot(hours()));
    const typing = reduce(state, { type: 'filter-start' }, { type: 'filter-type', text: 'f' }, { type: 'filter-type', text: 'ailed' });
    expect(typing.focus).toBe('logs');
    expect(visibleLogs(typing).map((l) => l.msg)).toEqual(['Hour FAILED']);
    const applied = reduce(typing, { type: 'filter-commit' });
    expect(applied.filter).toBe('failed');
    expect(applied.filterDraft).toBeUndefined();
    // When a new filter is started and cancelled, the applied one stays
    const cancelled = reduce(applied, { type: 'filter-start' }, { type: 'filter-backspace' }, { type: 'filter-type', text: 'x' }, { type: 'filter-cancel' });
    expect(cancelled.filter).toBe('failed');
    // A filter on the level or the component matches too
    const byComponent = reduce(state, { type: 'filter-start' }, { type: 'filter-type', text: 'stream' }, { type: 'filter-commit' });
    expect(visibleLogs(byComponent)).toHaveLength(2);
  });

  it('strips escape sequences typed or pasted into the filter', () => {
    const state = reduce(initialState(snapshot(hours())), { type: 'filter-start' }, { type: 'filter-type', text: '\u001b[31mabc\u0007' });
    expect(state.filterDraft).toBe('abc');
  });
});

describe('keys to actions', () => {
  it('asks ETL and rerun for the selected hour only when it has raw data and is not running', () => {
    const withData = initialState(snapshot(hours({ 23: { files: 2, bytes: 10 } })));
    expect(requestForKey(withData, 'e')).toEqual({ request: { kind: 'etl', hour: hours()[23]!.hour } });
    expect(requestForKey(withData, 'r')).toEqual({ request: { kind: 'rerun', hour: hours()[23]!.hour } });
    const empty = initialState(snapshot(hours()));
    expect(requestForKey(empty, 'e')).toMatchObject({ error: expect.stringMatching(/no raw data/) });
    const running = initialState(snapshot(hours({ 23: { files: 1, etl: 'running' } })));
    expect(requestForKey(running, 'e')).toMatchObject({ error: expect.stringMatching(/already/) });
  });

  it('backfills exactly the failed and late hours', () => {
    const h = hours({ 3: { files: 1, etl: 'failed' }, 5: { files: 1, late: true }, 7: { files: 1, etl: 'done' }, 9: { missing: true } });
    const state = initialState(snapshot(h));
    expect(requestForKey(state, 'b')).toEqual({ request: { kind: 'backfill', hours: [h[3]!.hour, h[5]!.hour] } });
    expect(requestForKey(initialState(snapshot(hours())), 'b')).toMatchObject({ error: expect.any(String) });
  });

  it('toggles the streamer: start when stopped, stop when a streamer job runs', () => {
    const stopped = initialState(snapshot(hours()));
    expect(requestForKey(stopped, 's')).toEqual({ request: { kind: 'stream', stop: false } });
    const running = initialState(snapshot(hours(), { stream: { stale: false, data: { state: 'running', history: [], jobId: 'j1' } } }));
    expect(requestForKey(running, 's')).toEqual({ request: { kind: 'stream', stop: true } });
  });

  it('lists no action keys when read-only, and y/N while a question is open', () => {
    const ro = initialState(snapshot(hours({ 23: { files: 1 } })), true);
    const keys = availableKeys(ro).map(([k]) => k);
    expect(keys).not.toContain('s');
    expect(keys).not.toContain('e');
    expect(keys).toContain('q');
    const asking = reduce(initialState(snapshot(hours())), { type: 'confirm', request: { kind: 'publish' } });
    expect(availableKeys(asking).map(([k]) => k)).toEqual(['y', 'n']);
  });
});

describe('keys through the reducer', () => {
  const press = (state: MonitorState, ...inputs: Array<string | Partial<import('../../src/tui/state/monitor-state.ts').KeyPress>>) =>
    inputs.reduce<MonitorState>(
      (s, k) => monitorReducer(s, { type: 'key', key: typeof k === 'string' ? { input: k } : { input: '', ...k }, gridRows: 8, atMs: NOW }),
      state,
    );

  it('queues a run for an action that needs no question, and y/N for one that does', () => {
    const state = initialState(snapshot(hours({ 23: { files: 1 } })));
    const etl = press(state, 'e');
    expect(etl.effects).toEqual([{ id: 1, type: 'run', request: { kind: 'etl', hour: hours()[23]!.hour } }]);
    const asked = press(state, 'p');
    expect(asked.confirm).toEqual({ kind: 'publish' });
    expect(asked.effects).toEqual([]);
    expect(press(asked, 'y').effects).toEqual([{ id: 1, type: 'run', request: { kind: 'publish' } }]);
    expect(press(asked, 'x').effects).toEqual([{ id: 1, type: 'refuse', request: { kind: 'publish' }, why: 'declined at the y/N prompt' }]);
  });

  it('asks y/N before any paid action on the aws profile', () => {
    const aws = initialState({ ...snapshot(hours({ 23: { files: 1 } })), profile: 'aws' });
    expect(press(aws, 'e').confirm).toEqual({ kind: 'etl', hour: hours()[23]!.hour });
    expect(press(aws, 'm').confirm).toEqual({ kind: 'train' });
  });

  it('types into the filter instead of running actions while the filter is open', () => {
    const state = press(initialState(snapshot(hours())), '/', 's', 'm', { backspace: true }, 'b', { enter: true });
    expect(state.filter).toBe('sb');
    expect(state.effects).toEqual([]);
  });

  it('queues quit on q, and refuses (with a notice) in read-only mode', () => {
    expect(press(initialState(snapshot(hours())), 'q').effects).toEqual([{ id: 1, type: 'quit' }]);
    const ro = press(initialState(snapshot(hours()), true), 's');
    expect(ro.effects).toEqual([{ id: 1, type: 'refuse', request: { kind: 'stream', stop: false }, why: 'read-only monitor' }]);
    expect(ro.notice?.text).toMatch(/read-only/);
    // Taken effects leave the queue
    expect(monitorReducer(ro, { type: 'effects-taken', ids: [1] }).effects).toEqual([]);
  });
});

describe('layout', () => {
  it('fits 80×24 and 120×40 in one row less than the terminal, with all 24 hours', () => {
    for (const [columns, rows] of [
      [80, 24],
      [120, 40],
      [200, 60],
    ] as const) {
      const l = monitorLayout(columns, rows);
      const total = 1 + (1 + l.topLines) + (1 + l.gridRows + 1) + (1 + l.logLines) + 2;
      expect(total).toBe(rows - 1);
      expect(l.gridColumns * l.gridRows).toBeGreaterThanOrEqual(24);
      expect(l.gridColumns * (l.cellWidth + 2) - 2).toBeLessThanOrEqual(columns);
      expect(l.compact).toBe(columns < 100 || rows < 32);
    }
  });

  it('shortens the key line to fit the width', () => {
    const keys: Array<[string, string]> = [['s', 'start stream'], ['e', 'ETL 06h'], ['m', 'train'], ['/', 'filter logs'], ['tab', 'pane'], ['?', 'help'], ['q', 'quit']];
    expect(keyLine(keys, 200)).toContain('tab pane');
    const short = keyLine(keys, 50);
    expect(short.length).toBeLessThanOrEqual(50);
    expect(short).toContain('s start');
    expect(short).toContain('q quit');
    expect(keyLine(keys, 12).length).toBeLessThanOrEqual(15);
  });
});
