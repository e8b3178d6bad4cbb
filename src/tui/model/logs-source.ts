import type { Level, TelemetryRecord } from '../../telemetry/telemetry.ts';
import { sanitize } from '../../text.ts';
import type { PaneSource } from './sources.ts';
import type { TelemetryHub } from './telemetry-feed.ts';
import type { LogLine, LogView } from './types.ts';

const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];

/**
 * The Logs pane's source: the newest log and audit records of every component (stats records
 * are the Stream pane's). Text is made terminal-safe here, once, as it enters the model.
 */
export class LogsSource implements PaneSource<LogView> {
  private lines: LogLine[] = [];

  constructor(
    private readonly hub: TelemetryHub,
    private readonly keep = 500,
  ) {
    hub.subscribe((records) => this.ingest(records));
  }

  private ingest(records: readonly TelemetryRecord[]): void {
    for (const r of records) {
      if (r.kind === 'stats') continue;
      this.lines.push({
        ts: sanitize(r.ts, 40),
        level: LEVELS.includes(r.level) ? r.level : 'info',
        component: sanitize(r.component, 40),
        kind: sanitize(r.kind, 20),
        msg: sanitize(r.msg, 500),
      });
    }
    if (this.lines.length > this.keep) this.lines = this.lines.slice(-this.keep);
  }

  async fetch(): Promise<LogView> {
    await this.hub.sync();
    return { lines: [...this.lines] };
  }
}
