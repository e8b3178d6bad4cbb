import type { Writable } from 'node:stream';
import { escapeTerminal } from '../text.ts';

/**
 * Progress of long work on a terminal: one line rewritten in place on a TTY (at most every
 * 200 ms), else a plain line at most every `plainEveryMs` (logs and pipes stay readable).
 * Lines printed with `log` go above it.
 */
export class ProgressLine {
  private last = 0;
  private shown = '';
  private readonly tty: boolean;

  constructor(
    private readonly stream: Writable & { isTTY?: boolean; columns?: number },
    private readonly plainEveryMs = 5_000,
    private readonly clock: () => number = Date.now,
  ) {
    this.tty = stream.isTTY === true;
  }

  /** Shows `text` as the current progress (skipped when the last one was shown too recently, unless `force`). */
  update(text: string, force = false): void {
    const now = this.clock();
    if (!force && now - this.last < (this.tty ? 200 : this.plainEveryMs)) return;
    this.last = now;
    const line = escapeTerminal(text);
    if (!this.tty) {
      this.stream.write(`${line}\n`);
      return;
    }
    const width = Math.max(20, (this.stream.columns ?? 100) - 1);
    this.shown = line.length > width ? `${line.slice(0, width - 1)}…` : line;
    this.stream.write(`\r\x1b[2K${this.shown}`);
  }

  /** Prints a line that stays (the progress line is redrawn below it on a TTY). */
  log(text: string): void {
    if (this.tty && this.shown) this.stream.write('\r\x1b[2K');
    this.stream.write(`${escapeTerminal(text)}\n`);
    if (this.tty && this.shown) this.stream.write(this.shown);
  }

  /** Ends the progress line (a TTY's line is cleared). */
  done(): void {
    if (this.tty && this.shown) this.stream.write('\r\x1b[2K');
    this.shown = '';
  }
}

/** "12,345/~40,000 records, 1,234 records/s, ETA 25 s": done of total, rate, remaining time at that rate. */
export function rateAndEta(done: number, total: number, elapsedMs: number, unit: string, estimated = false): string {
  const n = (x: number): string => Math.round(x).toLocaleString('en-US');
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const eta = rate > 0 && total > done ? ` · ETA ${formatDuration(((total - done) / rate) * 1000)}` : '';
  return `${n(done)}/${estimated ? '~' : ''}${n(total)} ${unit} · ${n(rate)} ${unit}/s${eta}`;
}

/** 850 ms, 12.3 s, 4m05s, 2h03m. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
