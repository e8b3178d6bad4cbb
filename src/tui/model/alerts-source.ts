import { gatherFacts, type FactSources, type LatestStats, type StatsComponent } from '../../alerts/facts.ts';
import { evaluateAlerts, type AlertThresholds, type ComponentStats } from '../../alerts/rules.ts';
import { sanitize } from '../../text.ts';
import type { PaneSource } from './sources.ts';
import type { TelemetryHub } from './telemetry-feed.ts';
import type { AlertView } from './types.ts';

/** How often the monitor evaluates the rules by default. */
export const ALERTS_EVERY_MS = 10_000;

export interface AlertSourceOptions {
  /**
   * The lake, the jobs, the lookback and where a component's newest stats are read when the
   * monitor's feed has not seen any yet (a streamer that died before the monitor started).
   */
  facts: Omit<FactSources, 'now'>;
  hub: TelemetryHub;
  thresholds: AlertThresholds;
  /** The rules are evaluated at most this often (default 10 s); fetches in between return the last verdict. */
  everyMs?: number;
  now?: () => number;
}

/**
 * The alert banner's source: the same rules as `openevents alerts`, on the same facts. The
 * streamer's and lander's newest stats come from the telemetry the monitor already tails; only a
 * component the feed has not seen is read from the telemetry history (once until it reports).
 * Evaluated every `everyMs`, not every refresh: the rules list an hour folder each, which a
 * one-second refresh does not need.
 */
export class AlertSource implements PaneSource<AlertView> {
  private readonly stats = new Map<StatsComponent, ComponentStats>();
  private readonly looked = new Set<StatsComponent>();
  private last: AlertView | undefined;
  private readonly everyMs: number;
  /** The monitor's refresher fetches it this often (its panes refresh every second). */
  readonly intervalMs: number;
  private readonly now: () => number;

  constructor(private readonly options: AlertSourceOptions) {
    this.everyMs = options.everyMs ?? ALERTS_EVERY_MS;
    this.intervalMs = this.everyMs;
    this.now = options.now ?? Date.now;
    options.hub.subscribe((records) => {
      for (const r of records) {
        if (r.kind !== 'stats' || (r.component !== 'stream' && r.component !== 'land')) continue;
        const atMs = Date.parse(r.ts);
        const seen = this.stats.get(r.component);
        if (Number.isFinite(atMs) && (!seen || atMs >= seen.atMs)) this.stats.set(r.component, { atMs, data: r.data ?? {} });
      }
    });
  }

  async fetch(): Promise<AlertView> {
    const nowMs = this.now();
    if (this.last && nowMs - this.last.evaluatedAtMs < this.everyMs) return this.last;
    await this.options.hub.sync();
    const facts = await gatherFacts({ ...this.options.facts, latestStats: this.latestStats, now: () => nowMs });
    this.last = {
      evaluatedAtMs: nowMs,
      alerts: evaluateAlerts(facts, this.options.thresholds).map((a) => ({
        rule: a.rule,
        subject: sanitize(a.subject, 80),
        message: sanitize(a.message, 400),
        ...(a.since ? { since: a.since } : {}),
      })),
    };
    return this.last;
  }

  private readonly latestStats: LatestStats = async (component, sinceMs) => {
    if (!this.stats.has(component) && !this.looked.has(component)) {
      const read = await this.options.facts.latestStats(component, sinceMs);
      this.looked.add(component);
      const seen = this.stats.get(component);
      if (read && (!seen || read.atMs > seen.atMs)) this.stats.set(component, read);
    }
    const stats = this.stats.get(component);
    return stats && stats.atMs >= sinceMs ? stats : undefined;
  };
}
