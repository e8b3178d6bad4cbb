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

  constructor(private readonly feed: TelemetryFeed) {}

  subscribe(consumer: (records: readonly TelemetryRecord[]) => void): void {
    this.consumers.push(consumer);
  }

  sync(): Promise<void> {
    this.inflight ??= this.feed
      .poll()
      .then((records) => {
        for (const consume of this.consumers) consume(records);
      })
      .finally(() => (this.inflight = undefined));
    return this.inflight;
  }
}
