import { hostname } from 'node:os';
import { setTimeout as pause } from 'node:timers/promises';
import {
  CreateLogStreamCommand,
  FilterLogEventsCommand,
  PutLogEventsCommand,
  ResourceAlreadyExistsException,
  type CloudWatchLogsClient,
  type FilteredLogEvent,
  type InputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { awsErrorKind } from '../aws/errors.ts';
import { errorMessage } from '../errors.ts';
import { redactText } from '../redact.ts';
import type { TelemetryFeed } from './feed.ts';
import { matchesQuery, stampRecord, type TelemetryQuery, type TelemetryReader, type TelemetryRecord, type TelemetrySink } from './telemetry.ts';

/**
 * Telemetry on the aws profile: the same records as the local `_telemetry/` lines, one JSON
 * record per CloudWatch Logs event, in the log group of the config (aws.logs.group), one log
 * stream per process (`<component>/<host>/<start>-<pid>`).
 *
 * emit() never waits for the network: records are queued and shipped in the background in
 * batches within PutLogEvents' limits (≤ 10,000 events, ≤ 1 MiB counting 26 bytes per event,
 * a span under 24 h, in time order, none older than 14 days or more than 2 h ahead). While
 * CloudWatch cannot be reached the queue holds up to `maxBufferedRecords` (and 8 MiB); past
 * that bound the oldest records are dropped and counted, and once shipping works again a warn
 * record says how many were lost and why. close() ships what it can within `closeTimeoutMs`.
 */
export interface CloudWatchTelemetryOptions {
  /** A client from the factory (aws/clients.ts), ideally with few SDK attempts: the sink retries itself. */
  client: CloudWatchLogsClient;
  group: string;
  /** The log stream (default `<component>/<host>/<start>-<pid>` from `component`). */
  stream?: string;
  /** Names the default log stream. */
  component?: string;
  /** How long a record may wait for a fuller batch (default 1 s). */
  flushIntervalMs?: number;
  /** Records held while CloudWatch is unreachable; beyond this the oldest are dropped (default 10,000). */
  maxBufferedRecords?: number;
  /** The same bound in bytes (default 8 MiB). */
  maxBufferedBytes?: number;
  /** close() gives up shipping after this long and counts the rest as dropped (default 5 s). */
  closeTimeoutMs?: number;
  /** Longest wait between attempts while CloudWatch fails (default 30 s). */
  maxBackoffMs?: number;
  now?: () => number;
  /** Told when shipping starts failing (once per outage) and when records had to be dropped. */
  onProblem?: (message: string) => void;
}

/** What the sink has done, for tests and the command's closing line. */
export interface CloudWatchTelemetryStats {
  shipped: number;
  /** Records lost: dropped past the buffer bound, refused by CloudWatch, or left at close. */
  dropped: number;
  pending: number;
  batches: number;
  /** The last shipping failure, if the last attempt failed. */
  lastError?: string;
}

/** PutLogEvents limits. */
export const PUT_LOG_EVENTS_LIMITS = {
  maxEvents: 10_000,
  maxBytes: 1_048_576,
  overheadBytes: 26,
  /** One event's message, bytes (the historic 256 KiB limit, counting the overhead). */
  maxEventBytes: 262_144 - 26,
  maxSpanMs: 24 * 3_600_000,
  maxAgeMs: 14 * 86_400_000,
  maxAheadMs: 2 * 3_600_000,
} as const;

interface Pending {
  timestamp: number;
  message: string;
  /** Message bytes + the per-event overhead. */
  bytes: number;
}

export class CloudWatchTelemetry implements TelemetrySink {
  readonly group: string;
  readonly stream: string;
  private readonly client: CloudWatchLogsClient;
  private readonly now: () => number;
  private readonly o: Required<Pick<CloudWatchTelemetryOptions, 'flushIntervalMs' | 'maxBufferedRecords' | 'maxBufferedBytes' | 'closeTimeoutMs' | 'maxBackoffMs'>>;
  private readonly onProblem: (message: string) => void;
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private shipped = 0;
  private dropped = 0;
  /** Drops not yet reported in a warn record: beyond the buffer bound, and refused (too old or new). */
  private unreported = { buffer: 0, refused: 0 };
  private batches = 0;
  private lastError: string | undefined;
  /** The last failure will not pass by waiting (no log group, no credentials, access denied). */
  private lastErrorLasting = false;
  private failingSince: number | undefined;
  private backoffMs = 0;
  private retryAt = 0;
  private streamReady = false;
  private timer: NodeJS.Timeout | undefined;
  private shipping: Promise<void> | undefined;
  /** Records of the batch being sent (out of the queue until it succeeds or is put back). */
  private inFlight = 0;
  private closing = false;
  private closed = false;
  private abort = new AbortController();

  constructor(options: CloudWatchTelemetryOptions) {
    this.client = options.client;
    this.group = options.group;
    this.now = options.now ?? Date.now;
    this.stream = options.stream ?? defaultStreamName(options.component ?? 'openevents', this.now());
    this.o = {
      flushIntervalMs: options.flushIntervalMs ?? 1_000,
      maxBufferedRecords: options.maxBufferedRecords ?? 10_000,
      maxBufferedBytes: options.maxBufferedBytes ?? 8 * 1024 * 1024,
      closeTimeoutMs: options.closeTimeoutMs ?? 5_000,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
    };
    this.onProblem = options.onProblem ?? (() => {});
  }

  emit(record: Omit<TelemetryRecord, 'ts'> & { ts?: string }): void {
    if (this.closed) {
      this.count(1);
      return;
    }
    this.enqueue(stampRecord(record, this.now));
    this.schedule();
  }

  stats(): CloudWatchTelemetryStats {
    return {
      shipped: this.shipped,
      dropped: this.dropped,
      pending: this.queue.length + this.inFlight,
      batches: this.batches,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
    };
  }

  /** Ships what is queued, for at most `closeTimeoutMs`; what is left is counted as dropped. */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const deadline = this.now() + this.o.closeTimeoutMs;
    const giveUp = setTimeout(() => this.abort.abort(), this.o.closeTimeoutMs);
    try {
      while (this.queue.length > 0 && this.now() < deadline && !this.abort.signal.aborted) {
        // At close, a failing service gets one more prompt try rather than the full backoff.
        this.retryAt = Math.min(this.retryAt, this.now() + 250);
        await this.ship();
        // A missing log group or refused credentials will not come right within the close timeout.
        if (this.queue.length > 0 && this.lastErrorLasting) break;
        if (this.queue.length > 0) await pause(Math.max(0, Math.min(this.retryAt, deadline) - this.now()), undefined, { signal: this.abort.signal }).catch(() => undefined);
      }
      await this.shipping;
    } finally {
      clearTimeout(giveUp);
      this.closed = true;
      if (this.queue.length > 0) {
        this.count(this.queue.length);
        this.queue = [];
        this.queuedBytes = 0;
      }
    }
  }

  private enqueue(record: TelemetryRecord): void {
    let message = JSON.stringify(record);
    let bytes = Buffer.byteLength(message);
    if (bytes > PUT_LOG_EVENTS_LIMITS.maxEventBytes) {
      // One oversized record (a huge error) must not block the others: keep its head, say so.
      message = JSON.stringify({ ...record, msg: record.msg.slice(0, 8_192), data: { truncated: true, originalBytes: bytes } });
      bytes = Buffer.byteLength(message);
    }
    this.queue.push({ timestamp: Date.parse(record.ts), message, bytes: bytes + PUT_LOG_EVENTS_LIMITS.overheadBytes });
    this.queuedBytes += bytes + PUT_LOG_EVENTS_LIMITS.overheadBytes;
    this.bound();
  }

  /** Drops the oldest records beyond the buffer bounds, counting them. */
  private bound(): void {
    let drop = 0;
    let bytes = this.queuedBytes;
    while (this.queue.length - drop > this.o.maxBufferedRecords || bytes > this.o.maxBufferedBytes) {
      bytes -= this.queue[drop]!.bytes;
      drop += 1;
    }
    if (drop === 0) return;
    this.queue = this.queue.slice(drop);
    this.queuedBytes = bytes;
    this.count(drop);
  }

  private count(n: number, why: 'buffer' | 'refused' = 'buffer'): void {
    this.dropped += n;
    this.unreported[why] += n;
  }

  private schedule(): void {
    if (this.shipping || this.closing) return;
    const full = this.queue.length >= PUT_LOG_EVENTS_LIMITS.maxEvents || this.queuedBytes >= PUT_LOG_EVENTS_LIMITS.maxBytes;
    const due = Math.max(full ? 0 : this.o.flushIntervalMs, this.retryAt - this.now());
    if (this.timer && !full) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.ship().then(() => {
        if (this.queue.length > 0) this.schedule();
      });
    }, due);
    // Telemetry never keeps a finished command alive; close() ships what is left.
    this.timer.unref();
  }

  /** One shipping pass: batches until the queue is empty or a call fails. */
  private ship(): Promise<void> {
    this.shipping ??= this.shipBatches().finally(() => (this.shipping = undefined));
    return this.shipping;
  }

  private async shipBatches(): Promise<void> {
    while (this.queue.length > 0 && this.now() >= this.retryAt) {
      const batch = this.takeBatch();
      if (batch.length === 0) continue;
      this.inFlight = batch.length;
      try {
        await this.put(batch);
      } catch (error) {
        this.inFlight = 0;
        this.fail(batch, error);
        return;
      }
      this.inFlight = 0;
      this.recovered();
    }
  }

  /** The next batch in time order within PutLogEvents' limits; too old or too new records are dropped. */
  private takeBatch(): Pending[] {
    this.queue.sort((a, b) => a.timestamp - b.timestamp);
    const now = this.now();
    const L = PUT_LOG_EVENTS_LIMITS;
    let skip = 0;
    while (skip < this.queue.length && this.queue[skip]!.timestamp < now - L.maxAgeMs + 60_000) skip += 1;
    let end = skip;
    let bytes = 0;
    const first = this.queue[skip]?.timestamp ?? 0;
    while (end < this.queue.length && end - skip < L.maxEvents) {
      const e = this.queue[end]!;
      if (e.timestamp > now + L.maxAheadMs - 60_000 || e.timestamp - first >= L.maxSpanMs || bytes + e.bytes > L.maxBytes) break;
      bytes += e.bytes;
      end += 1;
    }
    let tooNew = 0;
    if (end === skip && end < this.queue.length && this.queue[end]!.timestamp > now + L.maxAheadMs - 60_000) {
      // Everything left is too far ahead: CloudWatch would refuse it.
      tooNew = this.queue.length - end;
    }
    const batch = this.queue.slice(skip, end);
    const removed = skip + batch.length + tooNew;
    this.queuedBytes -= this.queue.slice(0, removed).reduce((n, e) => n + e.bytes, 0);
    this.queue = this.queue.slice(removed);
    if (skip + tooNew > 0) this.count(skip + tooNew, 'refused');
    return batch;
  }

  private async put(batch: Pending[]): Promise<void> {
    await this.ensureStream();
    const logEvents: InputLogEvent[] = batch.map((e) => ({ timestamp: e.timestamp, message: e.message }));
    let out;
    try {
      out = await this.client.send(new PutLogEventsCommand({ logGroupName: this.group, logStreamName: this.stream, logEvents }), { abortSignal: this.abort.signal });
    } catch (error) {
      // The stream was deleted under us: make it again, once.
      if (awsErrorKind(error) !== 'not-found' || !/stream/i.test(errorMessage(error))) throw error;
      this.streamReady = false;
      await this.ensureStream();
      out = await this.client.send(new PutLogEventsCommand({ logGroupName: this.group, logStreamName: this.stream, logEvents }), { abortSignal: this.abort.signal });
    }
    const info = out.rejectedLogEventsInfo;
    const rejected = info
      ? Math.max(info.tooOldLogEventEndIndex ?? 0, info.expiredLogEventEndIndex ?? 0) + (info.tooNewLogEventStartIndex !== undefined ? batch.length - info.tooNewLogEventStartIndex : 0)
      : 0;
    this.shipped += batch.length - rejected;
    this.batches += 1;
    if (rejected > 0) this.count(rejected, 'refused');
  }

  private async ensureStream(): Promise<void> {
    if (this.streamReady) return;
    try {
      await this.client.send(new CreateLogStreamCommand({ logGroupName: this.group, logStreamName: this.stream }), { abortSignal: this.abort.signal });
    } catch (error) {
      if (!(error instanceof ResourceAlreadyExistsException)) throw error;
    }
    this.streamReady = true;
  }

  private fail(batch: Pending[], error: unknown): void {
    // Back to the front of the queue, in order; the bound then drops the oldest if need be.
    this.queue = [...batch, ...this.queue];
    this.queuedBytes += batch.reduce((n, e) => n + e.bytes, 0);
    this.bound();
    const message = redactText(errorMessage(error)).replace(/\s+/g, ' ');
    if (this.failingSince === undefined) {
      this.failingSince = this.now();
      this.onProblem(`telemetry: cannot ship to CloudWatch Logs group ${this.group}: ${message}; holding up to ${this.o.maxBufferedRecords} records, then dropping the oldest`);
    }
    this.lastError = message;
    this.lastErrorLasting = ['not-found', 'access-denied', 'no-credentials', 'expired-credentials', 'bad-credentials', 'invalid-name'].includes(awsErrorKind(error));
    this.backoffMs = Math.min(this.o.maxBackoffMs, Math.max(500, this.backoffMs * 2));
    // Full jitter, so many processes coming back after an outage do not call at once.
    this.retryAt = this.now() + this.backoffMs / 2 + Math.random() * (this.backoffMs / 2);
  }

  private recovered(): void {
    this.backoffMs = 0;
    this.retryAt = 0;
    this.lastError = undefined;
    const { buffer, refused } = this.unreported;
    if (buffer + refused > 0) {
      const outage = this.failingSince !== undefined ? ` while CloudWatch Logs could not be reached (since ${new Date(this.failingSince).toISOString()})` : '';
      const why = [
        ...(buffer > 0 ? [`${buffer} beyond the buffer of ${this.o.maxBufferedRecords} records${outage}`] : []),
        ...(refused > 0 ? [`${refused} that CloudWatch Logs refuses (older than 14 days or over 2 hours ahead)`] : []),
      ].join(', ');
      this.unreported = { buffer: 0, refused: 0 };
      this.onProblem(`telemetry: dropped ${why}`);
      this.enqueue(stampRecord({ level: 'warn', component: 'telemetry', kind: 'log', msg: `dropped telemetry records: ${why}`, data: { dropped: buffer + refused } }, this.now));
    }
    this.failingSince = undefined;
  }
}

/** Reads the log group back: history with FilterLogEvents, and a polling feed for `--follow` and the monitor. */
export class CloudWatchTelemetryReader implements TelemetryReader {
  constructor(
    private readonly client: CloudWatchLogsClient,
    readonly group: string,
    private readonly options: { now?: () => number; maxPages?: number } = {},
  ) {}

  async read(query: TelemetryQuery = {}): Promise<TelemetryRecord[]> {
    const limit = query.limit ?? 500;
    const now = this.options.now ?? Date.now;
    const out: TelemetryRecord[] = [];
    for await (const [record, line] of this.events(query.sinceMs ?? now() - 3_600_000, query.text)) {
      if (!matchesQuery(record, query, line)) continue;
      out.push(record);
      // Keep memory bounded on a long history: only the newest `limit` are returned.
      if (out.length > limit * 2) out.splice(0, out.length - limit);
    }
    out.sort(byTs);
    return out.slice(-limit);
  }

  feed(options: { backlog?: boolean } = {}): TelemetryFeed {
    const now = this.options.now ?? Date.now;
    // Events become searchable a little after they are put: look back over a window, skip what was seen.
    const lagMs = 30_000;
    // Without a backlog, nothing from before the feed was made (a reader of history has those).
    const floor = options.backlog === false ? now() : 0;
    let cursor = options.backlog === false ? floor : now() - 5 * 60_000;
    const seen = new Map<string, number>();
    return {
      poll: async () => {
        const out: TelemetryRecord[] = [];
        const from = cursor - lagMs;
        let newest = cursor;
        for await (const [record, , event] of this.events(from, undefined)) {
          const id = event.eventId ?? `${event.logStreamName}/${event.timestamp}/${event.message}`;
          if (seen.has(id) || (event.timestamp ?? 0) < floor) continue;
          seen.set(id, event.timestamp ?? 0);
          out.push(record);
          newest = Math.max(newest, event.timestamp ?? 0);
        }
        cursor = Math.max(cursor, newest);
        for (const [id, ts] of seen) if (ts < cursor - lagMs * 2) seen.delete(id);
        return out.sort(byTs);
      },
    };
  }

  /** Every event from `sinceMs` on, oldest first, as [record, its JSON line, the event]. */
  private async *events(sinceMs: number, text: string | undefined): AsyncIterable<[TelemetryRecord, string, FilteredLogEvent]> {
    let nextToken: string | undefined;
    const maxPages = this.options.maxPages ?? 200;
    for (let page = 0; page < maxPages; page++) {
      const out = await this.client.send(
        new FilterLogEventsCommand({
          logGroupName: this.group,
          startTime: Math.max(0, Math.floor(sinceMs)),
          ...(text ? { filterPattern: `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"` } : {}),
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      for (const event of out.events ?? []) {
        if (event.message === undefined) continue;
        yield [parseEvent(event), event.message, event];
      }
      nextToken = out.nextToken;
      if (!nextToken) return;
    }
  }
}

/** A record from a log event: our JSON line, or a foreign line shown as a log message. */
function parseEvent(event: FilteredLogEvent): TelemetryRecord {
  const message = event.message ?? '';
  try {
    const parsed = JSON.parse(message) as Partial<TelemetryRecord>;
    if (parsed && typeof parsed === 'object' && typeof parsed.ts === 'string' && typeof parsed.msg === 'string') return parsed as TelemetryRecord;
  } catch {
    // not one of ours
  }
  return {
    ts: new Date(event.timestamp ?? 0).toISOString(),
    level: 'info',
    component: (event.logStreamName ?? 'unknown').split('/')[0] ?? 'unknown',
    kind: 'log',
    msg: message,
  };
}

/** `<component>/<host>/<start>-<pid>`: unique per process, sortable, no ':' or '*' (not allowed). */
export function defaultStreamName(component: string, nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const clean = (s: string): string => s.replace(/[:*]/g, '_').slice(0, 100);
  return `${clean(component)}/${clean(hostname())}/${stamp}-${process.pid}`;
}

function byTs(a: TelemetryRecord, b: TelemetryRecord): number {
  return a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0;
}
