import type { HourId } from '../../lake/layout.ts';
import { needsConfirmation, type ActionRequest } from '../model/actions.ts';
import { backfillTargets } from '../model/lake-grid.ts';
import { paneNames, type LakeHour, type LogLine, type PaneName, type PipelineSnapshot } from '../model/types.ts';
import { sanitize } from '../../text.ts';

/**
 * The monitor's UI state as a pure reducer: what is focused and selected, the logs filter, the
 * help overlay, a pending y/N question and the last notice. Data arrives as whole snapshots.
 */
export interface MonitorState {
  snapshot: PipelineSnapshot;
  focus: PaneName;
  /** The selected hour of the lake grid; undefined follows the newest hour. */
  selectedHour?: HourId;
  /** Index into the jobs list. */
  selectedJob: number;
  /** Lines scrolled up from the newest log line. */
  logScroll: number;
  /** The applied logs filter (case-insensitive substring). */
  filter: string;
  /** The filter being typed after `/`; undefined when not editing. */
  filterDraft?: string;
  help: boolean;
  /** An action waiting for y/N. */
  confirm?: ActionRequest;
  notice?: { text: string; tone: 'info' | 'error'; atMs: number };
  readonly: boolean;
  /** Work the keys asked for, for the key hook to carry out (in order) and acknowledge. */
  effects: MonitorEffect[];
  /** Id of the next effect. */
  nextEffect: number;
}

/** What a key asks the outside world to do. */
export type MonitorEffect =
  | { id: number; type: 'run'; request: ActionRequest }
  | { id: number; type: 'refuse'; request: ActionRequest; why: string }
  | { id: number; type: 'quit' };

/** A key press, as much of it as the monitor uses. */
export interface KeyPress {
  input: string;
  up?: boolean;
  down?: boolean;
  left?: boolean;
  right?: boolean;
  tab?: boolean;
  shift?: boolean;
  enter?: boolean;
  escape?: boolean;
  backspace?: boolean;
  ctrl?: boolean;
  meta?: boolean;
}

export type MonitorAction =
  | { type: 'snapshot'; snapshot: PipelineSnapshot }
  /** One pane's new data (panes refresh on their own schedules); `atMs` is the time the screen shows. */
  | { type: 'panes'; panes: Partial<PipelineSnapshot['panes']>; alerts?: PipelineSnapshot['alerts']; atMs: number }
  /**
   * A key press. Keys go through the reducer (not a handler closed over the last render's state)
   * so that keys typed faster than React re-renders each see the state the previous one left.
   */
  | { type: 'key'; key: KeyPress; gridRows: number; atMs: number }
  /** The key hook has taken these effects. */
  | { type: 'effects-taken'; ids: number[] }
  | { type: 'focus-next' }
  | { type: 'focus-prev' }
  /** Arrow keys; `gridRows` is how many hours a lake grid column holds (left/right jump a column). */
  | { type: 'move'; dx: -1 | 0 | 1; dy: -1 | 0 | 1; gridRows: number }
  | { type: 'help'; open: boolean }
  | { type: 'filter-start' }
  | { type: 'filter-type'; text: string }
  | { type: 'filter-backspace' }
  | { type: 'filter-commit' }
  | { type: 'filter-cancel' }
  | { type: 'confirm'; request: ActionRequest }
  | { type: 'confirm-clear' }
  | { type: 'notice'; text: string; tone: 'info' | 'error'; atMs: number };

export function initialState(snapshot: PipelineSnapshot, readonly = false): MonitorState {
  return { snapshot, focus: 'lake', selectedJob: 0, logScroll: 0, filter: '', help: false, readonly, effects: [], nextEffect: 1 };
}

export function monitorReducer(state: MonitorState, action: MonitorAction): MonitorState {
  switch (action.type) {
    case 'snapshot': {
      const jobs = action.snapshot.panes.jobs.data ?? [];
      const hours = lakeHours({ ...state, snapshot: action.snapshot });
      const selectedHour = state.selectedHour && hours.some((h) => h.hour === state.selectedHour) ? state.selectedHour : undefined;
      const next: MonitorState = { ...state, snapshot: action.snapshot, selectedJob: clamp(state.selectedJob, 0, Math.max(0, jobs.length - 1)) };
      if (selectedHour) next.selectedHour = selectedHour;
      else delete next.selectedHour;
      return next;
    }
    case 'panes': {
      const { snapshot } = state;
      const alerts = action.alerts ?? snapshot.alerts;
      return monitorReducer(state, { type: 'snapshot', snapshot: { ...snapshot, atMs: action.atMs, panes: { ...snapshot.panes, ...action.panes }, ...(alerts ? { alerts } : {}) } });
    }
    case 'key':
      return onKey(state, action.key, action.gridRows, action.atMs);
    case 'effects-taken':
      return { ...state, effects: state.effects.filter((e) => !action.ids.includes(e.id)) };
    case 'focus-next':
    case 'focus-prev': {
      const i = paneNames.indexOf(state.focus);
      const step = action.type === 'focus-next' ? 1 : paneNames.length - 1;
      return { ...state, focus: paneNames[(i + step) % paneNames.length] ?? 'lake' };
    }
    case 'move':
      return move(state, action.dx, action.dy, action.gridRows);
    case 'help':
      return { ...state, help: action.open };
    case 'filter-start':
      return { ...state, focus: 'logs', filterDraft: state.filter };
    case 'filter-type':
      return state.filterDraft === undefined ? state : { ...state, filterDraft: (state.filterDraft + sanitize(action.text)).slice(0, 80) };
    case 'filter-backspace':
      return state.filterDraft === undefined ? state : { ...state, filterDraft: state.filterDraft.slice(0, -1) };
    case 'filter-commit': {
      if (state.filterDraft === undefined) return state;
      const { filterDraft, ...rest } = state;
      return { ...rest, filter: filterDraft.trim(), logScroll: 0 };
    }
    case 'filter-cancel': {
      const { filterDraft: _drop, ...rest } = state;
      return rest;
    }
    case 'confirm':
      return { ...state, confirm: action.request };
    case 'confirm-clear': {
      const { confirm: _drop, ...rest } = state;
      return rest;
    }
    case 'notice':
      return { ...state, notice: { text: sanitize(action.text, 300), tone: action.tone, atMs: action.atMs } };
  }
}

type EffectBody = { type: 'run'; request: ActionRequest } | { type: 'refuse'; request: ActionRequest; why: string } | { type: 'quit' };

function withEffect(state: MonitorState, effect: EffectBody): MonitorState {
  return { ...state, effects: [...state.effects, { ...effect, id: state.nextEffect } as MonitorEffect], nextEffect: state.nextEffect + 1 };
}

function onKey(state: MonitorState, key: KeyPress, gridRows: number, atMs: number): MonitorState {
  const r = monitorReducer;
  const notice = (s: MonitorState, text: string, tone: 'info' | 'error' = 'info'): MonitorState => r(s, { type: 'notice', text, tone, atMs });
  const { input } = key;
  if (state.confirm) {
    const request = state.confirm;
    const cleared = r(state, { type: 'confirm-clear' });
    if (input === 'y' || input === 'Y') return notice(withEffect(cleared, { type: 'run', request }), 'starting…');
    return notice(withEffect(cleared, { type: 'refuse', request, why: 'declined at the y/N prompt' }), 'cancelled');
  }
  if (state.filterDraft !== undefined) {
    if (key.enter) return r(state, { type: 'filter-commit' });
    if (key.escape) return r(state, { type: 'filter-cancel' });
    if (key.backspace) return r(state, { type: 'filter-backspace' });
    if (input && !key.ctrl && !key.meta) return r(state, { type: 'filter-type', text: input });
    return state;
  }
  if (input === 'q' || (key.ctrl && input === 'c')) return withEffect(state, { type: 'quit' });
  if (input === '?') return r(state, { type: 'help', open: !state.help });
  if (state.help) return key.escape ? r(state, { type: 'help', open: false }) : state;
  if (key.tab) return r(state, { type: key.shift ? 'focus-prev' : 'focus-next' });
  if (key.up) return r(state, { type: 'move', dx: 0, dy: -1, gridRows });
  if (key.down) return r(state, { type: 'move', dx: 0, dy: 1, gridRows });
  if (key.left) return r(state, { type: 'move', dx: -1, dy: 0, gridRows });
  if (key.right) return r(state, { type: 'move', dx: 1, dy: 0, gridRows });
  if (input === '/') return r(state, { type: 'filter-start' });
  if (key.escape && state.filter) return { ...state, filter: '', logScroll: 0 };
  const asked = requestForKey(state, input);
  if (!asked) return state;
  if (state.readonly) {
    const refused = 'request' in asked ? withEffect(state, { type: 'refuse', request: asked.request, why: 'read-only monitor' }) : state;
    return notice(refused, 'read-only: actions are disabled', 'error');
  }
  if ('error' in asked) return notice(state, asked.error, 'error');
  if (needsConfirmation(asked.request, state.snapshot.profile)) return r(state, { type: 'confirm', request: asked.request });
  return notice(withEffect(state, { type: 'run', request: asked.request }), 'starting…');
}

function move(state: MonitorState, dx: number, dy: number, gridRows: number): MonitorState {
  switch (state.focus) {
    case 'lake': {
      const hours = lakeHours(state);
      if (hours.length === 0) return state;
      const current = selectedIndex(state, hours);
      const delta = dy + dx * Math.max(1, gridRows);
      const target = clamp(current + delta, 0, hours.length - 1);
      const hour = hours[target]?.hour;
      return hour === undefined ? state : { ...state, selectedHour: hour };
    }
    case 'jobs': {
      const jobs = state.snapshot.panes.jobs.data ?? [];
      return { ...state, selectedJob: clamp(state.selectedJob + dy, 0, Math.max(0, jobs.length - 1)) };
    }
    case 'logs': {
      const lines = visibleLogs(state).length;
      // Up scrolls back in time.
      return { ...state, logScroll: clamp(state.logScroll - dy, 0, Math.max(0, lines - 1)) };
    }
    case 'stream':
      return state;
  }
}

/** The lake grid's hours (empty while the lake pane has no data). */
export function lakeHours(state: MonitorState): LakeHour[] {
  return state.snapshot.panes.lake.data?.hours ?? [];
}

function selectedIndex(state: MonitorState, hours: readonly LakeHour[]): number {
  const i = state.selectedHour ? hours.findIndex((h) => h.hour === state.selectedHour) : -1;
  return i >= 0 ? i : hours.length - 1;
}

/** The selected hour of the grid (the newest when none was chosen). */
export function selectedLakeHour(state: MonitorState): LakeHour | undefined {
  const hours = lakeHours(state);
  return hours[selectedIndex(state, hours)];
}

/** Log lines that match the filter (the draft while typing, so the pane filters as you type). */
export function visibleLogs(state: MonitorState): LogLine[] {
  const lines = state.snapshot.panes.logs.data?.lines ?? [];
  const filter = (state.filterDraft ?? state.filter).toLowerCase();
  if (!filter) return lines;
  return lines.filter((l) => `${l.level} ${l.component} ${l.msg}`.toLowerCase().includes(filter));
}

/** The streamer runs (or is starting) per the stream pane: its EC2 instance where it has one, else its local job or its stats. */
export function streamerRunning(state: MonitorState): boolean {
  const s = state.snapshot.panes.stream.data;
  if (s?.host) return s.host.state === 'running' || s.host.state === 'pending';
  return s?.jobId !== undefined || s?.state === 'running' || s?.state === 'reconnecting';
}

/** The action a key asks for, or why it cannot run now. */
export function requestForKey(state: MonitorState, key: string): { request: ActionRequest } | { error: string } | undefined {
  const hour = selectedLakeHour(state);
  const hasRaw = hour !== undefined && hour.files > 0;
  const noRaw = (what: string): string =>
    hour?.inFlight ? `${hour.hour} has no raw file yet to ${what} (${hour.inFlight} records still in the streamer's open file)` : `${hour?.hour} has no raw data to ${what}`;
  switch (key) {
    case 's':
      return { request: { kind: 'stream', stop: streamerRunning(state) } };
    case 'e':
      if (!hour) return { error: 'no hour selected (the lake pane has no data yet)' };
      if (!hasRaw) return { error: noRaw('process') };
      if (hour.etl === 'running') return { error: `${hour.hour} is already being processed` };
      return { request: { kind: 'etl', hour: hour.hour } };
    case 'r':
      if (!hour) return { error: 'no hour selected (the lake pane has no data yet)' };
      if (!hasRaw) return { error: noRaw('rerun') };
      if (hour.etl === 'running') return { error: `${hour.hour} is already being processed` };
      return { request: { kind: 'rerun', hour: hour.hour } };
    case 'm':
      return { request: { kind: 'train' } };
    case 'p':
      return { request: { kind: 'publish' } };
    case 'b': {
      const hours = backfillTargets(lakeHours(state));
      if (hours.length === 0) return { error: 'no failed or late hours to backfill' };
      return { request: { kind: 'backfill', hours } };
    }
    default:
      return undefined;
  }
}

/** The keys that apply now, for the footer: [key, what it does]. */
export function availableKeys(state: MonitorState): Array<[string, string]> {
  if (state.confirm) return [['y', 'yes'], ['n', 'no']];
  if (state.filterDraft !== undefined) return [['enter', 'apply filter'], ['esc', 'cancel']];
  if (state.help) return [['?', 'close help'], ['q', 'quit']];
  const keys: Array<[string, string]> = [];
  if (!state.readonly) {
    keys.push(['s', streamerRunning(state) ? 'stop stream' : 'start stream']);
    const hour = selectedLakeHour(state);
    if (hour && hour.files > 0 && hour.etl !== 'running') keys.push(['e', `ETL ${hour.hour.slice(11)}h`], ['r', 'rerun hour']);
    keys.push(['m', 'train'], ['p', 'publish']);
    const targets = backfillTargets(lakeHours(state));
    if (targets.length > 0) keys.push(['b', `backfill ${targets.length}`]);
  }
  if (state.focus === 'lake' || state.focus === 'jobs' || state.focus === 'logs') keys.push(['↑↓', 'select']);
  keys.push(['/', 'filter logs'], ['tab', 'pane'], ['?', 'help'], ['q', 'quit']);
  return keys;
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}
