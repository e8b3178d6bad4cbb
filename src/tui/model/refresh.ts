import { fetchPane, FETCH_TIMEOUT_MS } from './snapshot.ts';
import type { PaneSource, PipelineSources } from './sources.ts';
import { paneNames, type PaneData, type PaneName } from './types.ts';

/** What the refresher fetches: the panes, and the alert banner when the pipeline has alert rules. */
export type RefreshName = PaneName | 'alerts';

export interface PaneRefresherOptions {
  sources: PipelineSources;
  /** How often each pane is fetched (a source's own `intervalMs` can ask for less often). */
  refreshMs: number;
  /** A fetch without an answer this long marks its pane stale (the fetch may still answer later). */
  timeoutMs?: number;
  /** Told about each pane after each of its fetches. */
  onPane: (name: RefreshName, pane: PaneData<unknown>) => void;
  now?: () => number;
}

/**
 * Refreshes each pane on its own schedule, so a slow or failing source (an AWS endpoint that
 * hangs) holds up only its own pane: the others, and the screen, keep moving. A fetch that does
 * not answer in `timeoutMs` marks the pane stale with "no answer"; that fetch is not started
 * again while it is still under way (no pile of requests to a dead endpoint), and its answer
 * still counts if it comes. The next fetch of a pane is scheduled after the last one ended.
 */
export class PaneRefresher {
  private readonly timers = new Map<RefreshName, NodeJS.Timeout>();
  /** Each pane's fetch under way (or answered but not yet shown): kept until a tick has shown its answer. */
  private readonly fetching = new Map<RefreshName, { promise: Promise<unknown>; settled: boolean }>();
  private readonly running = new Set<RefreshName>();
  private readonly again = new Set<RefreshName>();
  private readonly last = new Map<RefreshName, PaneData<unknown>>();
  private stopped = true;
  private readonly now: () => number;
  private readonly timeoutMs: number;

  private readonly names: readonly RefreshName[];

  constructor(private readonly options: PaneRefresherOptions) {
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? FETCH_TIMEOUT_MS;
    this.names = options.sources.alerts ? [...paneNames, 'alerts'] : paneNames;
  }

  start(): void {
    this.stopped = false;
    for (const name of this.names) void this.tick(name);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** Fetches every pane now (after an action), or as soon as its fetch under way ends. */
  refreshNow(): void {
    for (const name of this.names) void this.tick(name);
  }

  private async tick(name: RefreshName): Promise<void> {
    if (this.stopped) return;
    if (this.running.has(name)) {
      this.again.add(name);
      return;
    }
    this.running.add(name);
    clearTimeout(this.timers.get(name));
    const source = (name === 'alerts' ? this.options.sources.alerts : this.options.sources[name]) as PaneSource<unknown>;
    try {
      let fetching = this.fetching.get(name);
      if (!fetching) {
        const entry = { promise: source.fetch(), settled: false };
        const settle = (): void => void (entry.settled = true);
        entry.promise.then(settle, settle);
        this.fetching.set(name, (fetching = entry));
      }
      const pane = await fetchPane(source, this.last.get(name), this.now, this.timeoutMs, fetching.promise);
      // A fetch that timed out stays: the next tick waits for the same one, and gets its answer even if it came in between.
      if (fetching.settled) this.fetching.delete(name);
      this.last.set(name, pane);
      if (!this.stopped) this.options.onPane(name, pane);
    } finally {
      this.running.delete(name);
      if (!this.stopped) {
        const now = this.again.delete(name);
        const interval = Math.max(this.options.refreshMs, source.intervalMs ?? 0);
        this.timers.set(name, setTimeout(() => void this.tick(name), now ? 0 : interval));
      }
    }
  }
}
