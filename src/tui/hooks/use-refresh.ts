import { useCallback, useEffect, useRef, type Dispatch } from 'react';
import { refreshSnapshot } from '../model/snapshot.ts';
import type { PipelineSources } from '../model/sources.ts';
import type { PipelineSnapshot } from '../model/types.ts';
import type { MonitorAction } from '../state/monitor-state.ts';

/**
 * Refreshes the snapshot every `refreshMs`: the fetch is async I/O, so keys are handled while it
 * runs; the next one is scheduled after the last finished, so a slow source never piles up
 * fetches. Returns a function that refreshes now (after an action). Stops on unmount.
 */
export function useRefresh(
  sources: PipelineSources,
  refreshMs: number,
  dispatch: Dispatch<MonitorAction>,
  onSnapshot?: (snapshot: PipelineSnapshot) => void,
): () => void {
  const last = useRef<PipelineSnapshot | undefined>(undefined);
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
      dispatch({ type: 'snapshot', snapshot });
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

  return useCallback(() => void tick(), [tick]);
}
