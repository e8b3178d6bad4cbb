import { useCallback, useEffect, useRef, type Dispatch } from 'react';
import { refreshSnapshot } from '../model/snapshot.ts';
import type { PipelineSources } from '../model/sources.ts';
import type { PipelineSnapshot } from '../model/types.ts';
import type { MonitorAction } from '../state/monitor-state.ts';

/** An unchanged screen is still redrawn this often, so ages and elapsed times move on. */
export const IDLE_REDRAW_MS = 5_000;

/**
 * Refreshes the snapshot every `refreshMs`: the fetch is async I/O, so keys are handled while it
 * runs; the next one is scheduled after the last finished, so a slow source never piles up
 * fetches. A snapshot with the same data as the one shown is not drawn again for
 * IDLE_REDRAW_MS: drawing a full frame costs more than fetching, and an idle monitor should
 * cost next to nothing. Returns a function that refreshes now (after an action). Stops on unmount.
 */
export function useRefresh(
  sources: PipelineSources,
  refreshMs: number,
  dispatch: Dispatch<MonitorAction>,
  onSnapshot?: (snapshot: PipelineSnapshot) => void,
): () => void {
  const last = useRef<PipelineSnapshot | undefined>(undefined);
  const shown = useRef<{ fingerprint: string; atMs: number } | undefined>(undefined);
  const forced = useRef(false);
  const timer = useRef<NodeJS.Timeout | undefined>(undefined);
  const running = useRef(false);
  const again = useRef(false);
  const alive = useRef(true);

  const tick = useCallback(async () => {
    if (running.current) {
      again.current = true;
      return;
    }
    running.current = true;
    clearTimeout(timer.current);
    try {
      const snapshot = await refreshSnapshot(sources, last.current);
      if (!alive.current) return;
      last.current = snapshot;
      const print = fingerprint(snapshot);
      const same = shown.current?.fingerprint === print && snapshot.atMs - shown.current.atMs < IDLE_REDRAW_MS;
      if (!same || forced.current) {
        shown.current = { fingerprint: print, atMs: snapshot.atMs };
        forced.current = false;
        dispatch({ type: 'snapshot', snapshot });
      }
      onSnapshot?.(snapshot);
    } finally {
      running.current = false;
      if (alive.current) {
        const now = again.current;
        again.current = false;
        timer.current = setTimeout(() => void tick(), now ? 0 : refreshMs);
      }
    }
  }, [sources, refreshMs, dispatch, onSnapshot]);

  useEffect(() => {
    alive.current = true;
    void tick();
    return () => {
      alive.current = false;
      clearTimeout(timer.current);
    };
  }, [tick]);

  return useCallback(() => {
    forced.current = true;
    void tick();
  }, [tick]);
}

/** The snapshot's data without the times that change on every fetch. */
function fingerprint(snapshot: PipelineSnapshot): string {
  return JSON.stringify(snapshot.panes, (key, value: unknown) => (key === 'updatedAtMs' ? undefined : value));
}
