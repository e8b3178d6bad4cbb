import { backoffDelayMs } from '../stream/backoff.ts';
import type { Sink, SinkBatch, SinkContext, SinkRecovery, SinkRejection } from '../stream/sink.ts';
import { describeFailure, retrying, RETRY_BACKOFF } from './retry.ts';

/** One record on its way to a service: waiting for a call, in a call, or acknowledged. */
export interface OutboundRecord {
  /** The streamer's sequence number. */
  seq: number;
  /** What is sent (a view into the sink's own copy of the batch). */
  data: Buffer;
  /** Partition key ('' where the service has none). */
  key: string;
  /** What the record counts against the call's byte limit. */
  bytes: number;
  /** Calls that carried it so far. */
  attempts: number;
  /** Since when it could go in a call (ms): queued, or its key freed by an answer; the linger counts from it. */
  readyAtMs: number;
  /** Acknowledged (or rejected): no longer the sink's to send. */
  done: boolean;
}

/** How records are grouped into calls. */
export interface CallLimits {
  /** Records per call (500 for PutRecords and PutRecordBatch). */
  maxRecords: number;
  /** Bytes per call, as the service counts them. */
  maxBytes: number;
  /** Calls awaiting their answer at once. */
  maxInFlight: number;
  /** A call that is not full waits this long for more records (fewer, fuller calls). */
  lingerMs: number;
}

/** What a caller may tune on a remote sink. */
export interface RemoteSinkOptions {
  /** Calls awaiting their answer at once (default 4). */
  maxInFlight?: number;
  /** A call that is not full waits this long for more records while nothing is in flight (default 500 ms). */
  lingerMs?: number;
  random?: () => number;
}

/** A service's call limits with the tunable parts from `options`. */
export function callLimits(maxRecords: number, maxBytes: number, options: RemoteSinkOptions): CallLimits {
  return { maxRecords, maxBytes, maxInFlight: options.maxInFlight ?? 4, lingerMs: options.lingerMs ?? 500 };
}

/** Counters a remote sink keeps (for progress, telemetry and the benchmark). */
export interface RemoteSinkStats {
  /** Put calls made (each PutRecords / PutRecordBatch). */
  calls: number;
  /** Records acknowledged by the service. */
  acknowledged: number;
  /** Records sent again after a failed entry or call. */
  retried: number;
  /** Calls or entries refused for throughput. */
  throttled: number;
  /** Calls whose outcome was unknown (connection dropped, timeout, 5xx). */
  ambiguous: number;
  /** Records larger than the service takes, handed back to the streamer. */
  rejected: number;
}

/**
 * The part every sink that puts records to an AWS service in batched calls shares: a queue in
 * sequence order, calls of at most `maxRecords` / `maxBytes` with `maxInFlight` in flight (write()
 * waits while the queue is full: backpressure), a short linger so calls go out full, retries of
 * exactly the records a call did not store, one backoff with jitter after throttling, and the
 * durable mark: the highest sequence number up to which every record is acknowledged or rejected.
 *
 * A subclass says how a record is encoded (`encode`), how one call is made (`put`, which reports
 * back through `acknowledge` / `retry`), what it recovers when it opens, and what its state is.
 * With `orderedKeys`, at most one record per partition key is in flight, and a record waits for
 * the earlier records of its key, so one event's versions reach the service in order.
 */
export abstract class RemoteSink implements Sink {
  abstract readonly kind: string;
  abstract readonly target: string;
  protected ctx!: SinkContext;
  protected readonly stats_: RemoteSinkStats = { calls: 0, acknowledged: 0, retried: 0, throttled: 0, ambiguous: 0, rejected: 0 };

  /** Records not yet in a call, in sequence order. */
  private waiting: OutboundRecord[] = [];
  /** Records beyond the durable mark, in sequence order (done or not). */
  private outstanding: OutboundRecord[] = [];
  private outstandingBytes = 0;
  private durable = 0;
  private lastWritten = 0;
  private rejected: SinkRejection[] = [];
  private inFlight = 0;
  private readonly keysInFlight = new Set<string>();
  private failure: { error: unknown } | undefined;
  private flushing = false;
  private stopped = false;
  private throttleAttempt = 0;
  private backoffUntilMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAtMs = Number.POSITIVE_INFINITY;
  private checked: Promise<void> | undefined;
  private waiters: Array<() => void> = [];
  private lastThrottleLogMs = Number.NEGATIVE_INFINITY;
  private throttledSinceLog = 0;

  constructor(
    protected readonly limits: CallLimits,
    /** Partition keys keep their records' order (Kinesis). */
    private readonly orderedKeys: boolean,
    protected readonly random: () => number = Math.random,
  ) {}

  /** Checks the target exists and takes its limits; throws a UserError naming it when it cannot be used. */
  protected abstract describe(): Promise<void>;
  /** Recovers what a crash left; `checkpointedThrough` is already the durable mark. */
  protected abstract prepare(context: SinkContext): Promise<SinkRecovery>;
  /** The record as sent, its key and size; or why the service cannot take it. */
  protected abstract encode(record: Buffer, withNewline: Buffer, id: string): { data: Buffer; key: string; bytes: number } | { reason: string };
  /** Makes one call; reports each record through acknowledge() or retry() before it resolves. Throws only when the sink must stop. */
  protected abstract put(records: OutboundRecord[]): Promise<void>;
  abstract state(): unknown;

  /**
   * Checks the target exists and can be used (the command does this before it touches the lake,
   * so a wrong name or region fails with nothing written); open() does it when it was not done.
   */
  async check(): Promise<void> {
    this.checked ??= retrying(() => this.describe(), { random: this.random });
    try {
      await this.checked;
    } catch (error) {
      this.checked = undefined;
      throw error;
    }
  }

  async open(context: SinkContext): Promise<SinkRecovery> {
    this.ctx = context;
    this.durable = this.lastWritten = context.checkpointedThrough;
    await this.check();
    const recovery = await this.prepare(context);
    this.durable = this.lastWritten = recovery.durableThrough;
    return recovery;
  }

  async write(batch: SinkBatch): Promise<void> {
    this.throwIfFailed();
    // Records may wait for retries long after the streamer wants its buffer back: one copy.
    const copy = Buffer.from(batch.data);
    const ends = Array.from(batch.ends);
    const ids = batch.ids.slice();
    batch.release();
    const nowMs = this.ctx.now();
    let start = 0;
    for (let i = 0; i < ends.length; i++) {
      const end = ends[i]!;
      const seq = batch.first + i;
      const encoded = this.encode(copy.subarray(start, end - 1), copy.subarray(start, end), ids[i]!);
      const record: OutboundRecord = { seq, data: copy.subarray(start, end - 1), key: '', bytes: 0, attempts: 0, readyAtMs: nowMs, done: false };
      if ('reason' in encoded) {
        record.done = true;
        this.rejected.push({ seq, reason: encoded.reason, record: record.data });
        this.stats_.rejected++;
      } else {
        Object.assign(record, encoded);
        this.waiting.push(record);
        this.outstandingBytes += record.bytes;
      }
      this.outstanding.push(record);
      start = end;
    }
    this.lastWritten = batch.last;
    this.advance();
    this.pump();
    // Room for about one more call than may be in flight: enough to keep calls full.
    const maxRecords = (this.limits.maxInFlight + 1) * this.limits.maxRecords;
    const maxBytes = (this.limits.maxInFlight + 1) * this.limits.maxBytes;
    while (this.outstanding.length > maxRecords || this.outstandingBytes > maxBytes) {
      this.throwIfFailed();
      await this.changed();
    }
  }

  durableThrough(): number {
    return this.durable;
  }

  takeRejected(): SinkRejection[] {
    return this.rejected.splice(0);
  }

  async tick(_nowMs: number): Promise<void> {
    this.throwIfFailed();
    this.pump();
  }

  async flush(): Promise<void> {
    this.flushing = true;
    try {
      this.pump();
      while (this.outstanding.length > 0) {
        this.throwIfFailed();
        await this.changed();
      }
    } finally {
      this.flushing = false;
    }
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.stop();
    }
  }

  async abort(): Promise<void> {
    this.stop();
    this.waiting = [];
  }

  /** The sink's counters so far. */
  stats(): RemoteSinkStats {
    return { ...this.stats_ };
  }

  // ---- for subclasses -------------------------------------------------------------------------

  /** Records beyond the durable mark, in sequence order: sent or not, acknowledged or not. */
  protected pendingRecords(): readonly OutboundRecord[] {
    return this.outstanding;
  }

  /** The service stored the record. */
  protected acknowledge(record: OutboundRecord): void {
    if (record.done) return;
    record.done = true;
    this.outstandingBytes -= record.bytes;
    this.stats_.acknowledged++;
    this.advance();
  }

  /** The records were not stored: back into the queue, in order; `throttled` backs every call off. */
  protected retry(records: OutboundRecord[], throttled: boolean, why: string): void {
    if (records.length === 0) return;
    this.stats_.retried += records.length;
    if (throttled) this.throttle(records.length, why);
    const merged: OutboundRecord[] = [];
    const back = records.filter((r) => !r.done).sort((a, b) => a.seq - b.seq);
    let i = 0;
    for (const w of this.waiting) {
      while (i < back.length && back[i]!.seq < w.seq) merged.push(back[i++]!);
      merged.push(w);
    }
    while (i < back.length) merged.push(back[i++]!);
    this.waiting = merged;
  }

  /** A call succeeded without throttling: the backoff starts over. */
  protected unthrottled(): void {
    this.throttleAttempt = 0;
  }

  // ---- internals ------------------------------------------------------------------------------

  private throttle(records: number, why: string): void {
    this.stats_.throttled++;
    const delay = backoffDelayMs(this.throttleAttempt++, RETRY_BACKOFF, this.random);
    this.backoffUntilMs = Math.max(this.backoffUntilMs, this.ctx.now() + delay);
    this.throttledSinceLog += records;
    const nowMs = this.ctx.now();
    // One line per 10 s at most: a throttled stream would otherwise flood telemetry.
    if (nowMs - this.lastThrottleLogMs >= 10_000) {
      this.ctx.log('warn', `${this.kind}: throttled (${why}); ${this.throttledSinceLog} records to retry, backing off`, { records: this.throttledSinceLog, delayMs: delay });
      this.lastThrottleLogMs = nowMs;
      this.throttledSinceLog = 0;
    }
  }

  /** Moves the durable mark over the records done at the head. */
  private advance(): void {
    let n = 0;
    while (n < this.outstanding.length && this.outstanding[n]!.done) n++;
    if (n > 0) {
      this.durable = this.outstanding[n - 1]!.seq;
      this.outstanding.splice(0, n);
    }
    if (this.outstanding.length === 0) this.durable = this.lastWritten;
    this.wake();
  }

  /** Starts calls while there is room and something worth sending. */
  private pump(): void {
    if (this.stopped || this.failure) return;
    while (this.inFlight < this.limits.maxInFlight && this.waiting.length > 0) {
      const nowMs = this.ctx.now();
      if (nowMs < this.backoffUntilMs) return this.wakeAt(this.backoffUntilMs);
      const { records, full } = this.pick();
      if (records.length === 0) return;
      if (!full) {
        // A call that is not full waits while other calls are in flight: more records come
        // meanwhile, and their answers free the keys that hold records back, so calls go out
        // full under load and at the end of a flush. With nothing in flight it goes out after
        // the linger (at once when flushing).
        if (this.inFlight > 0) return;
        const oldest = Math.min(...records.map((r) => r.readyAtMs));
        if (!this.flushing && nowMs - oldest < this.limits.lingerMs) return this.wakeAt(oldest + this.limits.lingerMs);
      }
      const chosen = new Set(records);
      this.waiting = this.waiting.filter((r) => !chosen.has(r));
      void this.call(records);
    }
  }

  /** The next call's records: in sequence order, within the limits, one per key when keys are ordered. */
  private pick(): { records: OutboundRecord[]; full: boolean } {
    const records: OutboundRecord[] = [];
    const keys = new Set<string>();
    let bytes = 0;
    for (const r of this.waiting) {
      if (this.orderedKeys && (this.keysInFlight.has(r.key) || keys.has(r.key))) continue;
      if (records.length === this.limits.maxRecords || bytes + r.bytes > this.limits.maxBytes) return { records, full: true };
      records.push(r);
      keys.add(r.key);
      bytes += r.bytes;
    }
    return { records, full: records.length === this.limits.maxRecords };
  }

  private async call(records: OutboundRecord[]): Promise<void> {
    this.inFlight++;
    if (this.orderedKeys) for (const r of records) this.keysInFlight.add(r.key);
    try {
      await this.ctx.beforePublish();
      for (const r of records) r.attempts++;
      this.stats_.calls++;
      await this.put(records);
    } catch (error) {
      this.failure ??= { error };
      this.ctx.log('warn', `${this.kind}: stopping: ${describeFailure(error)}`);
    } finally {
      this.inFlight--;
      if (this.orderedKeys) {
        // Records held back behind these keys become ready now: they linger from here, with the next records.
        const freed = new Set(records.map((r) => r.key));
        for (const r of records) this.keysInFlight.delete(r.key);
        const nowMs = this.ctx.now();
        for (const w of this.waiting) if (freed.has(w.key)) w.readyAtMs = Math.max(w.readyAtMs, nowMs);
      }
      this.wake();
      this.pump();
    }
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /** Resolves at the next change: an answer, a failure, a timer. */
  private changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Pumps again at `atMs` (the linger's or the backoff's end). */
  private wakeAt(atMs: number): void {
    if (this.stopped || atMs >= this.timerAtMs) return;
    clearTimeout(this.timer);
    this.timerAtMs = atMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAtMs = Number.POSITIVE_INFINITY;
      this.pump();
      this.wake();
    }, Math.max(1, atMs - this.ctx.now()));
  }

  private stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAtMs = Number.POSITIVE_INFINITY;
    this.wake();
  }
}
