import { useInput } from 'ink';
import { useEffect, useRef, type Dispatch } from 'react';
import type { ActionRunner } from '../model/actions.ts';
import type { MonitorAction, MonitorState } from '../state/monitor-state.ts';

export interface MonitorKeysOptions {
  state: MonitorState;
  dispatch: Dispatch<MonitorAction>;
  /** Undefined: no actions at all (read-only). */
  runner: ActionRunner | undefined;
  gridRows: number;
  refreshNow: () => void;
  onQuit: () => void;
  now?: () => number;
}

/**
 * Binds keys: each press goes to the reducer, which decides what it means and queues effects
 * (run an action, refuse one, quit); this hook carries the effects out and reports results.
 */
export function useMonitorKeys(options: MonitorKeysOptions): void {
  const { state, dispatch, runner, gridRows, refreshNow, onQuit } = options;
  const now = options.now ?? Date.now;

  useInput((input, key) => {
    dispatch({
      type: 'key',
      gridRows,
      atMs: now(),
      key: {
        input,
        up: key.upArrow,
        down: key.downArrow,
        left: key.leftArrow,
        right: key.rightArrow,
        tab: key.tab,
        shift: key.shift,
        enter: key.return,
        escape: key.escape,
        backspace: key.backspace || key.delete,
        ctrl: key.ctrl,
        meta: key.meta && !key.escape,
      },
    });
  });

  const done = useRef(new Set<number>());
  useEffect(() => {
    const fresh = state.effects.filter((e) => !done.current.has(e.id));
    if (fresh.length === 0) return;
    for (const effect of fresh) done.current.add(effect.id);
    dispatch({ type: 'effects-taken', ids: fresh.map((e) => e.id) });
    for (const effect of fresh) {
      if (effect.type === 'quit') onQuit();
      else if (effect.type === 'refuse') runner?.refuse(effect.request, effect.why);
      else if (runner) {
        void runner.run(effect.request).then((result) => {
          dispatch({ type: 'notice', text: result.message, tone: result.ok ? 'info' : 'error', atMs: now() });
          refreshNow();
        });
      }
    }
  }, [state.effects, dispatch, runner, onQuit, refreshNow, now]);
}
