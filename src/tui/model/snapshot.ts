import { errorMessage } from '../../errors.ts';
import { sanitize } from '../../text.ts';
import type { PipelineSources, PaneSource } from './sources.ts';
import { paneNames, type PaneData, type PipelineSnapshot } from './types.ts';

/** A fetch that takes longer than this fails (and the pane goes stale) instead of holding up the rest. */
export const FETCH_TIMEOUT_MS = 10_000;

/**
 * Thrown by a source that has fresh data for part of its pane and not the rest (one of two job
 * runners, the telemetry but not Kinesis): the pane shows `data` and is marked stale with the error.
 */
export class PartialFetchError<T> extends Error {
  constructor(
    readonly data: T,
    message: string,
  ) {
    super(message);
    this.name = 'PartialFetchError';
  }
}

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

/** `promise`, or a rejection saying "no answer in Ns" once `timeoutMs` have passed. */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what = ''): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}no answer in ${timeoutMs / 1000}s`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One pane's fetch with a timeout. `fetching` is the source's fetch if one is already under way
 * (a refresh that timed out): it is waited on again instead of asking the source twice.
 */
export async function fetchPane<T>(
  source: PaneSource<T>,
  previous: PaneData<T> | undefined,
  now: () => number,
  timeoutMs: number,
  fetching: Promise<T> = source.fetch(),
): Promise<PaneData<T>> {
  try {
    const data = await withTimeout(fetching, timeoutMs);
    return { data, stale: false, updatedAtMs: now() };
  } catch (error) {
    if (error instanceof PartialFetchError) {
      return { data: error.data as T, stale: true, error: sanitize(error.message, 300), updatedAtMs: now() };
    }
    return {
      ...(previous?.data !== undefined ? { data: previous.data } : {}),
      ...(previous?.updatedAtMs !== undefined ? { updatedAtMs: previous.updatedAtMs } : {}),
      stale: true,
      error: sanitize(errorMessage(error), 300),
    };
  }
}
