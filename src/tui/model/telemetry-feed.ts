import type { TelemetryRecord } from '../../telemetry/telemetry.ts';
import type { TelemetryFeed } from '../../telemetry/feed.ts';

/** The feeds live with the telemetry readers (src/telemetry); the monitor shares one through the hub. */
export { LocalTelemetryFeed, type TelemetryFeed } from '../../telemetry/feed.ts';

/**
 * Shares one feed between panes: every polled batch goes to every subscriber, so the Stream and
 * Logs panes each see every record however their fetches interleave; concurrent syncs share one poll.
 */
export class TelemetryHub {
  private readonly consumers: Array<(records: readonly TelemetryRecord[]) => void> = [];
  private inflight: Promise<void> | undefined;
  private lastPollMs = -Infinity;

  constructor(
    private readonly feed: TelemetryFeed,
    /** Poll at most this often (CloudWatch Logs: FilterLogEvents has a small per-account rate); syncs in between see the last poll. */
    private readonly minIntervalMs = 0,
    private readonly now: () => number = Date.now,
  ) {}

  subscribe(consumer: (records: readonly TelemetryRecord[]) => void): void {
    this.consumers.push(consumer);
  }

  sync(): Promise<void> {
    if (!this.inflight && this.now() - this.lastPollMs < this.minIntervalMs) return Promise.resolve();
    this.inflight ??= this.feed
      .poll()
      .then((records) => {
        this.lastPollMs = this.now();
        for (const consume of this.consumers) consume(records);
      })
      .finally(() => (this.inflight = undefined));
    return this.inflight;
  }
}
