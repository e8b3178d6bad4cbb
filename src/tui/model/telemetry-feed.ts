import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isErrnoCode } from '../../errors.ts';
import type { TelemetryRecord } from '../../telemetry/telemetry.ts';

/**
 * New telemetry records since the last poll. The monitor polls every refresh, so this must cost
 * little when nothing changed: the local feed reads only the bytes appended to each file since
 * the last poll (LocalTelemetry.read() re-reads whole day files, fine once, too much each second).
 * A CloudWatch Logs feed (FilterLogEvents from the last seen timestamp) fits the same interface.
 */
export interface TelemetryFeed {
  poll(): Promise<TelemetryRecord[]>;
}

interface FileCursor {
  /** Bytes consumed: always just after a newline, so a line being appended is read whole next time. */
  offset: number;
}

export interface LocalTelemetryFeedOptions {
  /** On the first poll, read at most this many bytes from the end of each file. */
  backlogBytes?: number;
  now?: () => number;
}

/** Tails `<lake>/_telemetry/<day>/<component>.jsonl` (today's and yesterday's days, UTC). */
export class LocalTelemetryFeed implements TelemetryFeed {
  private readonly cursors = new Map<string, FileCursor>();
  private readonly backlogBytes: number;
  private readonly now: () => number;

  constructor(
    readonly dir: string,
    options: LocalTelemetryFeedOptions = {},
  ) {
    this.backlogBytes = options.backlogBytes ?? 256 * 1024;
    this.now = options.now ?? Date.now;
  }

  async poll(): Promise<TelemetryRecord[]> {
    const today = new Date(this.now()).toISOString().slice(0, 10);
    const yesterday = new Date(this.now() - 86_400_000).toISOString().slice(0, 10);
    const out: TelemetryRecord[] = [];
    for (const day of [yesterday, today]) {
      let names: string[];
      try {
        names = await fs.readdir(path.join(this.dir, day));
      } catch (error) {
        if (isErrnoCode(error, 'ENOENT')) continue;
        throw error;
      }
      for (const name of names.filter((n) => n.endsWith('.jsonl')).sort()) {
        await this.readFile(path.join(this.dir, day, name), out);
      }
    }
    // Forget files of days that have left the window.
    for (const file of this.cursors.keys()) {
      const day = path.basename(path.dirname(file));
      if (day !== today && day !== yesterday) this.cursors.delete(file);
    }
    out.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    return out;
  }

  private async readFile(file: string, out: TelemetryRecord[]): Promise<void> {
    let handle;
    try {
      handle = await fs.open(file, 'r');
    } catch (error) {
      if (isErrnoCode(error, 'ENOENT')) return;
      throw error;
    }
    try {
      const { size } = await handle.stat();
      let cursor = this.cursors.get(file);
      let skipFirst = false;
      if (!cursor || size < cursor.offset) {
        // First sight (or the file was replaced): start near the end, at a line boundary.
        const start = Math.max(0, size - this.backlogBytes);
        cursor = { offset: start };
        skipFirst = start > 0;
        this.cursors.set(file, cursor);
      }
      if (size === cursor.offset) return;
      const buffer = Buffer.alloc(size - cursor.offset);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, cursor.offset);
      const end = buffer.subarray(0, bytesRead).lastIndexOf(0x0a) + 1;
      if (end === 0) return;
      cursor.offset += end;
      const lines = buffer.subarray(0, end).toString('utf8').split('\n');
      if (skipFirst) lines.shift();
      for (const line of lines) {
        if (!line) continue;
        try {
          const record = JSON.parse(line) as TelemetryRecord;
          if (record && typeof record === 'object' && typeof record.ts === 'string') out.push(record);
        } catch {
          // a line cut by a crash: skip it
        }
      }
    } finally {
      await handle.close();
    }
  }
}

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
