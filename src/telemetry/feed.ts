import { promises as fs } from 'node:fs';
import path from 'node:path';
import { isErrnoCode } from '../errors.ts';
import type { TelemetryRecord } from './telemetry.ts';

/**
 * New telemetry records since the last poll. The monitor polls every refresh, so this must cost
 * little when nothing changed: the local feed reads only the bytes appended to each file since
 * the last poll (LocalTelemetry.read() re-reads whole day files, fine once, too much each second).
 * The CloudWatch Logs feed (cloudwatch.ts: FilterLogEvents from the last seen timestamp) is the
 * aws profile's.
 */
export interface TelemetryFeed {
  poll(): Promise<TelemetryRecord[]>;
}

interface FileCursor {
  /** Bytes consumed: always just after a newline, so a line being appended is read whole next time. */
  offset: number;
}

export interface LocalTelemetryFeedOptions {
  /** On the first poll, read at most this many bytes from the end of each file (0: start at the end). */
  backlogBytes?: number;
  now?: () => number;
}

/** Tails `<lake>/_telemetry/<day>/<component>.jsonl` (today's and yesterday's days, UTC). */
export class LocalTelemetryFeed implements TelemetryFeed {
  private readonly cursors = new Map<string, FileCursor>();
  private readonly backlogBytes: number;
  /** After the first poll, a file seen for the first time is new: read it from its start. */
  private primed = false;
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
    this.primed = true;
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
        // First sight (or the file was replaced): start near the end, at a line boundary; a file
        // that appeared after the first poll is read whole.
        const start = this.primed && !cursor ? 0 : Math.max(0, size - this.backlogBytes);
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
