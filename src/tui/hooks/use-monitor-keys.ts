import { useInput } from 'ink';
import type { Dispatch } from 'react';
import { needsConfirmation, type ActionRequest, type ActionRunner } from '../model/actions.ts';
import { requestForKey, type MonitorAction, type MonitorState } from '../state/monitor-state.ts';

export interface MonitorKeysOptions {
  state: MonitorState;
  dispatch: Dispatch<MonitorAction>;
  /** Undefined: no actions at all (read-only). */
  runner: ActionRunner | undefined;
  profile: string;
  gridRows: number;
  refreshNow: () => void;
  onQuit: () => void;
  now?: () => number;
}

/** Binds the monitor's keys to reducer actions and pipeline actions; no state of its own. */
export function useMonitorKeys(options: MonitorKeysOptions): void {
  const { state, dispatch, runner, profile, gridRows, refreshNow, onQuit } = options;
  const now = options.now ?? Date.now;
  const notice = (text: string, tone: 'info' | 'error' = 'info'): void => dispatch({ type: 'notice', text, tone, atMs: now() });

  const run = (request: ActionRequest): void => {
    if (!runner) return;
    notice('starting…');
    void runner.run(request).then((result) => {
      notice(result.message, result.ok ? 'info' : 'error');
      refreshNow();
    });
  };

  useInput((input, key) => {
    if (state.confirm) {
      const request = state.confirm;
      dispatch({ type: 'confirm-clear' });
      if (input === 'y' || input === 'Y') run(request);
      else {
        runner?.refuse(request, 'declined at the y/N prompt');
        notice('cancelled');
      }
      return;
    }
    if (state.filterDraft !== undefined) {
      if (key.return) dispatch({ type: 'filter-commit' });
      else if (key.escape) dispatch({ type: 'filter-cancel' });
      else if (key.backspace || key.delete) dispatch({ type: 'filter-backspace' });
      else if (input && !key.ctrl && !key.meta) dispatch({ type: 'filter-type', text: input });
      return;
    }
    if (input === 'q' || (key.ctrl && input === 'c')) return onQuit();
    if (input === '?') return dispatch({ type: 'help', open: !state.help });
    if (state.help) {
      if (key.escape) dispatch({ type: 'help', open: false });
      return;
    }
    if (key.tab) return dispatch({ type: key.shift ? 'focus-prev' : 'focus-next' });
    if (key.upArrow) return dispatch({ type: 'move', dx: 0, dy: -1, gridRows });
    if (key.downArrow) return dispatch({ type: 'move', dx: 0, dy: 1, gridRows });
    if (key.leftArrow) return dispatch({ type: 'move', dx: -1, dy: 0, gridRows });
    if (key.rightArrow) return dispatch({ type: 'move', dx: 1, dy: 0, gridRows });
    if (input === '/') return dispatch({ type: 'filter-start' });
    const asked = requestForKey(state, input);
    if (!asked) return;
    if (state.readonly || !runner) {
      if ('request' in asked) runner?.refuse(asked.request, 'read-only monitor');
      return notice('read-only: actions are disabled', 'error');
    }
    if ('error' in asked) return notice(asked.error, 'error');
    if (needsConfirmation(asked.request, profile)) dispatch({ type: 'confirm', request: asked.request });
    else run(asked.request);
  });
}
