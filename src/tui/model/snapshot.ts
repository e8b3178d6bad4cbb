import { errorMessage } from '../../errors.ts';
import { sanitize } from '../../text.ts';
import type { PipelineSources, PaneSource } from './sources.ts';
import { paneNames, type PaneData, type PipelineSnapshot } from './types.ts';

/** A fetch that takes longer than this fails (and the pane goes stale) instead of holding up the rest. */
export const FETCH_TIMEOUT_MS = 10_000;

/**
 * Fetches every pane at once. A pane whose source throws (or times out) keeps its previous data,
 * marked stale with the error; the others are unaffected. Never throws.
 */
export async function refreshSnapshot(
  sources: PipelineSources,
  previous?: PipelineSnapshot,
  now: () => number = Date.now,
  timeoutMs = FETCH_TIMEOUT_MS,
): Promise<PipelineSnapshot> {
  const [alerts, ...results] = await Promise.all([
    sources.alerts ? fetchPane(sources.alerts, previous?.alerts, now, timeoutMs) : undefined,
    ...paneNames.map((name) => fetchPane(sources[name] as PaneSource<unknown>, previous?.panes[name], now, timeoutMs)),
  ]);
  const panes = Object.fromEntries(paneNames.map((name, i) => [name, results[i]])) as PipelineSnapshot['panes'];
  return { atMs: now(), profile: sources.profile, lake: sources.location, panes, ...(alerts ? { alerts } : {}) };
}

/** An empty snapshot: every pane loading. */
export function emptySnapshot(sources: Pick<PipelineSources, 'profile' | 'location'>, atMs = Date.now()): PipelineSnapshot {
  const loading = { stale: true };
  return { atMs, profile: sources.profile, lake: sources.location, panes: { stream: loading, lake: loading, jobs: loading, logs: loading } };
}

async function fetchPane<T>(
  source: PaneSource<T>,
  previous: PaneData<T> | undefined,
  now: () => number,
  timeoutMs: number,
): Promise<PaneData<T>> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const data = await Promise.race([
      source.fetch(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs / 1000}s`)), timeoutMs);
      }),
    ]);
    return { data, stale: false, updatedAtMs: now() };
  } catch (error) {
    return {
      ...(previous?.data !== undefined ? { data: previous.data } : {}),
      ...(previous?.updatedAtMs !== undefined ? { updatedAtMs: previous.updatedAtMs } : {}),
      stale: true,
      error: sanitize(errorMessage(error), 300),
    };
  } finally {
    clearTimeout(timer);
  }
}
