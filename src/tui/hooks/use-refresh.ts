import { useCallback, useEffect, useRef, type Dispatch } from 'react';
import { PaneRefresher, type RefreshName } from '../model/refresh.ts';
import type { PipelineSources } from '../model/sources.ts';
import type { PaneData, PipelineSnapshot } from '../model/types.ts';
import type { MonitorAction } from '../state/monitor-state.ts';

/** An unchanged screen is still redrawn this often, so the clock, ages and elapsed times move on. */
export const IDLE_REDRAW_MS = 5_000;
/** Pane updates that arrive this close together are drawn as one frame. */
const BATCH_MS = 30;

/**
 * Refreshes each pane on its own schedule (see PaneRefresher: a slow source holds up only its
 * own pane); fetches are async I/O, so keys are handled while they run. A pane whose data did not
 * change is not drawn again: drawing a frame costs more than fetching, and an idle monitor should
 * cost next to nothing — but the screen is redrawn at least every IDLE_REDRAW_MS, so a source
 * that stopped answering shows its staleness growing. Returns a function that refreshes now.
 */
export function useRefresh(sources: PipelineSources, refreshMs: number, dispatch: Dispatch<MonitorAction>, now: () => number = Date.now): () => void {
  const refresher = useRef<PaneRefresher | undefined>(undefined);

  useEffect(() => {
    const shown = new Map<RefreshName, string>();
    let pending: Partial<PipelineSnapshot['panes']> & { alerts?: PipelineSnapshot['alerts'] } = {};
    let batch: NodeJS.Timeout | undefined;
    let drawnAtMs = 0;
    const draw = (): void => {
      batch = undefined;
      drawnAtMs = now();
      const { alerts, ...panes } = pending;
      pending = {};
      dispatch({ type: 'panes', panes, ...(alerts ? { alerts } : {}), atMs: drawnAtMs });
    };
    const onPane = (name: RefreshName, pane: PaneData<unknown>): void => {
      const print = fingerprint(pane);
      if (shown.get(name) === print) return;
      shown.set(name, print);
      (pending as Record<RefreshName, PaneData<unknown>>)[name] = pane;
      batch ??= setTimeout(draw, BATCH_MS);
    };
    // The clock: a frame when nothing else drew one for IDLE_REDRAW_MS.
    const clock = setInterval(() => {
      if (batch === undefined && now() - drawnAtMs >= IDLE_REDRAW_MS - 50) draw();
    }, IDLE_REDRAW_MS);
    const r = new PaneRefresher({ sources, refreshMs, onPane, now });
    refresher.current = r;
    r.start();
    return () => {
      r.stop();
      clearInterval(clock);
      clearTimeout(batch);
      refresher.current = undefined;
    };
  }, [sources, refreshMs, dispatch, now]);

  return useCallback(() => refresher.current?.refreshNow(), []);
}

/** A pane's data without the times that change on every fetch (neither is shown). */
function fingerprint(pane: PaneData<unknown>): string {
  return JSON.stringify(pane, (key, value: unknown) => (key === 'updatedAtMs' || key === 'evaluatedAtMs' ? undefined : value));
}
