import type { Dispatcher } from 'undici';
import type { Config } from '../config/schema.ts';
import { UserError, errorMessage } from '../errors.ts';
import { acquireLease, LeaseHeldError, LeaseLostError, type Lease } from '../lake/lease.ts';
import { hourIdOf, hoursBetween, hourPath, QUARANTINE, type HourId } from '../lake/layout.ts';
import { rawHoursPresent } from '../lake/manifest.ts';
import { quarantineEntry, writeQuarantine, type QuarantineEntry } from '../lake/quarantine.ts';
import type { ObjectStore } from '../lake/store.ts';
// The URL without user, password or secret query parameters, for logs, files and the terminal.
import { redactUrl as redact } from '../redact.ts';
import { nullTelemetry, type TelemetrySink } from '../telemetry/telemetry.ts';
import { parseRetryAfter, reconnectDelayMs } from './backoff.ts';
import { checkpointKey, loadCheckpoint, saveCheckpoint, WRITER_ID } from './checkpoint.ts';
import { isLineOf, QUARANTINE_KEEP_BYTES, REASONS, validateLine } from './contract.ts';
import { DedupeWindow } from './dedupe.ts';
import { isOversized, LineFramer, type Framed } from './framing.ts';
import { openHttpStream, proxyDispatcher, type HttpStream } from './http-source.ts';
import { LakeSink } from './lake-sink.ts';
import { PendingRecords } from './pending.ts';
import { loadResumePoint, ResumePlanner, resumeKey, saveResumePoint, type LineShape, type ResumeQuery } from './resume.ts';
import type { Sink, SinkNoticeKind } from './sink.ts';

/** The stream settings the streamer uses (config `stream.*`). */
export type StreamSettings = Config['stream'];

/** What the streamer reports every `statsIntervalMs` and on exit (telemetry `kind: 'stats'`). */
export interface StreamStats {
  /** Valid, distinct events accepted per second over the last interval. */
  eventsPerSec: number;
  /** Bytes received per second over the last interval. */
  bytesPerSec: number;
  /** Valid, distinct events accepted in this run. */
  events: number;
  /** Of those, events the sink made durable. */
  durable: number;
  /** Bytes received in this run. */
  bytes: number;
  reconnects: number;
  /** Records quarantined (by the streamer, or handed back by the sink). */
  invalid: number;
  /** Exact (id, mtime) duplicates dropped. */
  duplicates: number;
  /** Records of a catch-up set aside until it showed it reaches back to what is stored (they come again). */
  setAside: number;
  /** Partial records dropped because the connection ended mid-record (the source re-sends them on resume). */
  cutOff: number;
  /** Objects the sink published in this run (raw files for the lake sink). */
  files: number;
  /** Since the last valid event arrived; null before the first. */
  lastEventAgeMs: number | null;
  /** Highest mtime received, null before the first event. */
  highestMtime: number | null;
  state: 'running' | 'reconnecting' | 'stopped';
}

/** Things worth a progress line: connections, disconnections, files, closed hours. */
export interface StreamNotice {
  kind: 'connecting' | 'connected' | 'disconnected' | SinkNoticeKind;
  message: string;
}

export interface StreamerOptions {
  url: string;
  /** The lake: quarantine, the checkpoint and the writer's lease live here whatever the sink. */
  store: ObjectStore;
  settings: StreamSettings;
  /** Where accepted records go; default: the lake sink on `store`. */
  sink?: Sink;
  /** Names raw files, quarantine files and the checkpoint; one writer per running streamer. Default 'w1'. */
  writer?: string;
  /** Stop (exit cleanly) once this run has made this many events durable. */
  maxEvents?: number;
  stopSignal?: AbortSignal;
  telemetry?: TelemetrySink;
  /** For the default lake sink: folder for files being written (see LakeSink). */
  tmpDir?: string;
  onStats?: (stats: StreamStats) => void;
  onNotice?: (notice: StreamNotice) => void;
  now?: () => number;
  random?: () => number;
  /** Default: through the proxy HTTP_PROXY / HTTPS_PROXY name (NO_PROXY honoured), else direct. */
  dispatcher?: Dispatcher;
}

/** The outcome of a run. */
export interface StreamSummary extends StreamStats {
  stoppedBy: 'signal' | 'max-events';
  writer: string;
  /** The sink's kind and target. */
  sink: string;
  checkpoint: string;
  /** Wall-clock duration of the run, ms. */
  elapsedMs: number;
}

const NL = 0x0a;
/** Pending quarantine bytes that force a write, so a flood of bad lines cannot grow memory. */
const MAX_PENDING_QUARANTINE_BYTES = 8 * 1024 * 1024;
/**
 * Accepted bytes gathered before one write to the sink: for the lake, one compressed block. Each
 * block costs the event loop a zlib set-up (with a 32 KiB dictionary); 1 MiB blocks measured
 * 5–8% faster end to end than 256 KiB ones.
 */
const WRITE_BATCH_BYTES = 1024 * 1024;
/** A batch is handed to the sink at the latest this long after its first record arrived. */
const MAX_BATCH_AGE_MS = 1000;
/** The checkpoint (with its dedupe window, up to a few MB) is written at most this often, and on every stop. */
const MIN_CHECKPOINT_INTERVAL_MS = 1000;
/** The resume point (small) is written this often while data arrives: a restart re-fetches what is not durable. */
const RESUME_INTERVAL_MS = 500;

/**
 * Streams open_events from `url` into a sink (the lake by default) until stopped (stopSignal)
 * or until `maxEvents` are durable. Reconnects with backoff and resumes from the checkpoint;
 * never prints — progress goes to onStats/onNotice and telemetry.
 */
export async function runStreamer(options: StreamerOptions): Promise<StreamSummary> {
  const streamer = new Streamer(options);
  return streamer.run();
}

/** A rejected line waiting for its quarantine write, after the record with sequence number `afterSeq`. */
interface PendingQuarantine {
  hour: HourId;
  entry: QuarantineEntry;
  afterSeq: number;
}

class Streamer {
  private readonly o: StreamerOptions;
  private readonly s: StreamSettings;
  private readonly writer: string;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly telemetry: TelemetrySink;
  private readonly sink: Sink;
  private readonly framer: LineFramer;
  private readonly dedupe: DedupeWindow;
  private readonly pending = new PendingRecords();
  private readonly planner: ResumePlanner;
  private lastResume = { atMs: 0, bytes: -1, checkpointed: -1 };
  /** The resume point names records received in this run (written once the first arrive). */
  private anchored = false;
  private readonly tickMs: number;
  private readonly dispatcher: Dispatcher | undefined;
  private lease: Lease | undefined;

  /** The sequence number the next accepted record gets. */
  private nextSeq = 1;
  /** Every record ≤ this is durable per the sink, ≤ checkpointed per the checkpoint. */
  private durable = 0;
  private checkpointed = 0;
  private durableAtStart = 0;
  private highestDurableMtime = Number.NEGATIVE_INFINITY;
  private lastCheckpointAtMs = 0;
  private nextQuarantineSeq = 1;
  private quarantineHour: HourId | null = null;
  private quarantine: PendingQuarantine[] = [];
  private quarantineBytes = 0;
  /** Sequence numbers the sink rejected beyond `durable` (quarantined, so not counted durable), and how many at or below it. */
  private rejectedSeqs: number[] = [];
  private rejectedDurable = 0;

  private stopping = false;
  private stoppedBy: StreamSummary['stoppedBy'] = 'signal';
  private state: StreamStats['state'] = 'reconnecting';
  /** The shape of the line being recorded (one object, reused: it is filled once per line). */
  private readonly shape: Required<LineShape> = { length: 0, idAt: 0, mtimeAt: 0 };
  private readonly counts = { events: 0, durable: 0, bytes: 0, reconnects: 0, invalid: 0, duplicates: 0, setAside: 0, cutOff: 0, files: 0 };
  private lastEventAtMs: number | undefined;
  private lastStats = { atMs: 0, events: 0, bytes: 0 };
  private readonly startedAtMs: number;
  private nextMaintainAtMs = 0;
  private readonly framed: Framed[] = [];
  /** Reused batch buffers: a stream of ~100 MB/s would otherwise churn as much garbage memory. */
  private readonly buffers: BatchPool;
  /** WRITE_BATCH_BYTES, or less when files rotate at a smaller size (a block is the rotation step). */
  private readonly batchBytes: number;
  /**
   * Accepted lines not yet handed to the sink: one arrival hour, sequence numbers first..,
   * copied into a pooled buffer as they are accepted, so no socket chunk outlives its own framing.
   */
  private batch: { hour: HourId; first: number; sinceMs: number; slot: PooledBatch | undefined; bytes: number; records: number } = {
    hour: '',
    first: 1,
    sinceMs: 0,
    slot: undefined,
    bytes: 0,
    records: 0,
  };

  constructor(options: StreamerOptions) {
    this.o = options;
    this.s = options.settings;
    this.writer = options.writer ?? 'w1';
    if (!WRITER_ID.test(this.writer)) {
      throw new UserError(`invalid writer id "${this.writer}"`, { hint: 'use letters, digits, "_" and "-" (up to 64)' });
    }
    if (options.maxEvents !== undefined && options.maxEvents <= 0) throw new UserError('--max-events must be at least 1');
    if (!URL.canParse(options.url) || !/^https?:$/.test(new URL(options.url).protocol)) {
      throw new UserError(`not an http(s) URL: "${options.url}"`, { hint: 'pass --url (or config source.url) such as http://127.0.0.1:8088/2/open_events' });
    }
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.telemetry = options.telemetry ?? nullTelemetry;
    this.sink = options.sink ?? new LakeSink(options.store, this.writer, this.s, options.tmpDir);
    this.framer = new LineFramer(this.s.maxRecordBytes, QUARANTINE_KEEP_BYTES);
    this.dedupe = new DedupeWindow({ windowMs: 2 * this.s.resumeWindowMs });
    this.planner = new ResumePlanner({ resumeWindowMs: this.s.resumeWindowMs, now: this.now });
    this.tickMs = Math.max(20, Math.min(RESUME_INTERVAL_MS, this.s.stallTimeoutMs / 4, this.s.rotateAgeMs / 2, this.s.statsIntervalMs / 2));
    this.dispatcher = options.dispatcher ?? proxyDispatcher();
    this.batchBytes = Math.min(WRITE_BATCH_BYTES, this.s.rotateBytes);
    this.buffers = new BatchPool(3, this.batchBytes + 128 * 1024);
    this.startedAtMs = this.now();
    this.lastStats.atMs = this.startedAtMs;
    if (options.stopSignal?.aborted) this.stopping = true;
    options.stopSignal?.addEventListener('abort', () => (this.stopping = true), { once: true });
  }

  async run(): Promise<StreamSummary> {
    this.lease = await this.takeWriter();
    let failure: unknown;
    try {
      await this.recover();
      let attempt = 0;
      while (!this.stopping) {
        const outcome = await this.connectOnce();
        if (this.stopping) break;
        this.counts.reconnects++;
        this.state = 'reconnecting';
        // A connection that brought records (a network cut, not a failing source) is followed at once; failures back off.
        if (outcome.progressed) attempt = -1;
        const delay = attempt < 0 ? 0 : reconnectDelayMs(attempt, { initialMs: this.s.backoffInitialMs, maxMs: this.s.backoffMaxMs }, outcome.retryAfterMs, this.random);
        attempt++;
        const message = `disconnected: ${outcome.reason}; reconnecting in ${delay} ms`;
        this.notice('disconnected', message);
        await this.idle(delay);
      }
    } catch (error) {
      failure = error;
    }
    try {
      if (failure) await this.sink.abort();
      else await this.finish();
    } catch (error) {
      failure ??= error;
    } finally {
      if (!this.o.dispatcher) await this.dispatcher?.close();
    }
    if (failure instanceof LeaseLostError) throw this.takenOver(failure);
    if (failure) throw failure;
    const stats = this.stats();
    const elapsedS = Math.max(1, this.now() - this.startedAtMs) / 1000;
    return {
      ...stats,
      // Over the whole run, not the last interval.
      eventsPerSec: Math.round(this.counts.events / elapsedS),
      bytesPerSec: Math.round(this.counts.bytes / elapsedS),
      stoppedBy: this.stoppedBy,
      writer: this.writer,
      sink: `${this.sink.kind} ${this.sink.target}`,
      checkpoint: checkpointKey(this.writer),
      elapsedMs: this.now() - this.startedAtMs,
    };
  }

  // ---- the writer's lease ---------------------------------------------------------------------

  /** Takes the lease on this writer id: one streamer per writer, or files and checkpoints would be overwritten. */
  private async takeWriter(): Promise<Lease> {
    try {
      return await acquireLease(this.o.store, `stream/${this.writer}`, { ttlMs: this.s.leaseTtlMs, now: this.now });
    } catch (error) {
      if (!(error instanceof LeaseHeldError)) throw error;
      const detail = error.message.slice(error.message.indexOf(' is held by ') + ' is held by '.length);
      throw new UserError(`writer "${this.writer}" is in use by ${detail}`, {
        hint: 'stop that streamer first (or wait for its lease to expire), or give this one another --writer',
      });
    }
  }

  /** Before anything is written to the lake or published by the sink: certain to hold the writer id for half a lease more (renewing if needed). */
  private async holdWriter(): Promise<void> {
    await this.lease!.ensure(this.s.leaseTtlMs / 2);
  }

  private takenOver(error: LeaseLostError): UserError {
    const by = / to (.*): it expired/.exec(error.message)?.[1];
    return new UserError(`writer "${this.writer}" was taken over${by ? ` by ${by}` : ''}: its lease expired before this streamer renewed it (was it frozen or cut off from the lake?)`, {
      hint: 'this streamer stopped without publishing more; the other one carries on from the last checkpoint',
    });
  }

  // ---- connection ---------------------------------------------------------------------------

  /** Valid records received in this run, new or not. */
  private received(): number {
    return this.counts.events + this.counts.duplicates + this.counts.setAside;
  }

  /** The stream URL with the resume planner's since_count or since_mtime. */
  private resumeUrl(query: ResumeQuery): string {
    const url = new URL(this.o.url);
    if ('sinceCount' in query || 'sinceMtime' in query) {
      url.searchParams.delete('since_count');
      url.searchParams.delete('since_mtime');
    }
    if ('sinceCount' in query) url.searchParams.set('since_count', String(query.sinceCount));
    if ('sinceMtime' in query) url.searchParams.set('since_mtime', String(query.sinceMtime));
    return url.toString();
  }

  /** One connection, until it breaks or the streamer stops. */
  private async connectOnce(): Promise<{ reason: string; retryAfterMs?: number; progressed: boolean }> {
    const query = this.planner.query();
    const url = this.resumeUrl(query);
    const shown = redact(url);
    const abort = new AbortController();
    const onStop = (): void => abort.abort();
    this.o.stopSignal?.addEventListener('abort', onStop);
    let progressed = false;
    const receivedBefore = this.received();
    try {
      this.notice('connecting', `connecting to ${shown}`);
      let res: HttpStream;
      try {
        res = await openHttpStream(url, {
          headers: { accept: 'application/json, application/x-ndjson' },
          headersTimeoutMs: this.s.stallTimeoutMs,
          signal: abort.signal,
          ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
        });
      } catch (error) {
        this.planner.disconnected(false);
        return { reason: describeError(error), progressed };
      }
      if (res.status !== 200) {
        res.close();
        this.planner.disconnected(false);
        const retryAfterMs = parseRetryAfter(res.headers['retry-after'], this.now());
        if (res.status === 429 || res.status >= 500) {
          return { reason: `HTTP ${res.status}`, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), progressed };
        }
        throw new UserError(`the source answered HTTP ${res.status} for ${shown}`, {
          hint: 'check --url (or config source.url): it should be an open_events stream such as http://127.0.0.1:8088/2/open_events',
        });
      }
      this.state = 'running';
      this.planner.connected(query);
      this.notice('connected', `connected to ${shown}`);
      let reason = 'the source closed the stream';
      let ownAbort = false;
      let waitingSinceMs = this.now();
      for (;;) {
        let r: Buffer | null | undefined;
        try {
          r = await res.next(this.tickMs);
        } catch (error) {
          ownAbort ||= this.stopping || abort.signal.aborted;
          reason = describeError(error);
          break;
        }
        if (r === undefined) {
          if (this.now() - waitingSinceMs >= this.s.stallTimeoutMs) {
            reason = `stalled: no bytes for ${this.s.stallTimeoutMs} ms`;
            ownAbort = true;
            abort.abort();
            break;
          }
          await this.maintain();
          continue;
        }
        if (r === null) break;
        const before = this.counts.events;
        this.counts.bytes += r.length;
        await this.onChunk(r);
        if (this.counts.events > before) progressed = true;
        // A busy stream never lets the timer win the race: do the time-driven work here too.
        if (this.now() >= this.nextMaintainAtMs) await this.maintain();
        if (this.stopping || this.planner.reconnectReason) {
          if (this.planner.reconnectReason) reason = this.planner.reconnectReason;
          ownAbort = true;
          abort.abort();
          break;
        }
        waitingSinceMs = this.now();
      }
      res.close();
      const partial = this.framer.end();
      if (partial && !isOversized(partial) && validateLine(partial, this.s.maxRecordBytes).kind === 'valid') {
        // The stream ended right after a whole record without its newline (a file served as it
        // is, a server that closes after its last record): the record is complete, keep it.
        await this.onChunk(Buffer.concat([partial, Buffer.of(NL)]));
      } else if (partial && !ownAbort) {
        // A record cut by a broken connection is the transport's doing, not the source's: the
        // resume re-sends it (its mtime is inside the window), so it is counted, not quarantined.
        this.counts.cutOff++;
        this.log('warn', 'connection ended mid-record; the record is expected again on resume', { bytes: partial.length });
      }
      this.planner.disconnected(progressed);
      // A connection that carried records was cut by the network (or dropped to ask again): reconnect
      // at once. Backing off is for a source that fails; growing it here stretched catch-ups (issue 15).
      return { reason: this.stopping ? 'stopped' : reason, progressed: progressed || this.received() > receivedBefore };
    } finally {
      this.o.stopSignal?.removeEventListener('abort', onStop);
    }
  }

  /** Frames, validates, dedupes and batches one chunk. Pauses reading while the sink has no room. */
  private async onChunk(chunk: Buffer): Promise<void> {
    const nowMs = this.now();
    const hour = hourIdOf(nowMs);
    if (this.batch.bytes > 0 && this.batch.hour !== hour) await this.writeBatch();
    this.framed.length = 0;
    const lines = this.framer.push(chunk, this.framed);
    const batch = this.batch;
    for (const line of lines) {
      if (this.o.maxEvents !== undefined && this.counts.events >= this.o.maxEvents) {
        this.stopping = true;
        this.stoppedBy = 'max-events';
        break;
      }
      if (isOversized(line)) {
        this.reject(hour, nowMs, `${REASONS.oversized}: ${line.length} bytes > ${this.s.maxRecordBytes}`, line.head, line.length);
        continue;
      }
      // A catch-up re-sending what was received before: a line that is the record expected at
      // its position is a duplicate without a full scan.
      const next = this.planner.expectedNext();
      if (next !== undefined && isLineOf(line, next)) {
        this.planner.record(next.id, next.mtime, true, next);
        this.counts.duplicates++;
        continue;
      }
      const v = validateLine(line, this.s.maxRecordBytes);
      if (v.kind === 'blank') continue;
      if (v.kind === 'invalid') {
        this.reject(hour, nowMs, v.reason, line, line.length);
        continue;
      }
      // While a catch-up has not yet shown it reaches back to what is stored, its records are set
      // aside (they may lie beyond a gap; the answer that proves it brings them again).
      const checking = this.planner.checking;
      const known = checking ? this.dedupe.has(v.id, v.mtime) : !this.dedupe.add(v.id, v.mtime);
      const shape = this.shape;
      shape.length = line.length;
      shape.idAt = v.idAt ?? 0;
      shape.mtimeAt = v.mtimeAt ?? 0;
      const position = this.planner.record(v.id, v.mtime, known, shape);
      if (position === undefined) {
        this.counts.setAside++;
        continue;
      }
      if (known) {
        this.counts.duplicates++;
        continue;
      }
      if (checking) this.dedupe.add(v.id, v.mtime); // the record that proved the catch-up, new
      let slot = batch.slot;
      if (!slot || batch.bytes + line.length + 1 > slot.buffer.length) slot = await this.startBatch(hour, nowMs, line.length + 1);
      batch.bytes += line.copy(slot.buffer, batch.bytes);
      slot.buffer[batch.bytes++] = NL;
      slot.add(batch.records++, batch.bytes, v.id);
      this.pending.push(v.id, v.mtime, position);
      this.nextSeq++;
      this.counts.events++;
      this.lastEventAtMs = nowMs;
    }
    if (this.o.maxEvents !== undefined && this.counts.events >= this.o.maxEvents) {
      this.stopping = true;
      this.stoppedBy = 'max-events';
    }
    this.framed.length = 0;
    if (batch.bytes >= this.batchBytes) await this.writeBatch();
    if (this.quarantineBytes >= MAX_PENDING_QUARANTINE_BYTES) await this.settle({ quarantineAll: true });
    // The first records of a fresh run are named at once, before anything more is read.
    if (!this.anchored && this.counts.events > 0) {
      this.anchored = true;
      await this.saveResume(true);
    }
  }

  /** Hands the open batch (if any) to the sink and starts one with room for `bytes`. */
  private async startBatch(hour: HourId, nowMs: number, bytes: number): Promise<PooledBatch> {
    await this.writeBatch();
    const slot = await this.buffers.acquire(bytes);
    Object.assign(this.batch, { hour, first: this.nextSeq, sinceMs: nowMs, slot, bytes: 0, records: 0 });
    return slot;
  }

  /** Hands the batched records to the sink (fewer, larger writes cost the event loop less), then follows its durability. */
  private async writeBatch(): Promise<void> {
    const batch = this.batch;
    const slot = batch.slot;
    if (!slot) return;
    const { bytes, records } = batch;
    batch.slot = undefined;
    batch.bytes = 0;
    batch.records = 0;
    if (records === 0) return slot.release();
    const writing = this.sink.write({
      first: batch.first,
      last: batch.first + records - 1,
      data: slot.buffer.subarray(0, bytes),
      ends: slot.ends.subarray(0, records),
      ids: slot.ids.length === records ? slot.ids : slot.ids.slice(0, records),
      arrivedAtMs: batch.sinceMs,
      hour: batch.hour,
      release: slot.release,
    });
    // While the sink has no room (a remote sink awaiting acknowledgements), the checkpoint still follows what it makes durable.
    let written = false;
    void writing.then(
      () => (written = true),
      () => (written = true),
    );
    while (!written) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([writing, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.tickMs)))]);
      clearTimeout(timer);
      if (!written) await this.settle();
    }
    await writing;
    await this.settle();
  }

  private reject(hour: HourId, nowMs: number, reason: string, bytes: Buffer, length: number): void {
    const entry = quarantineEntry(reason, bytes, nowMs, { length, source: redact(this.o.url), keepBytes: QUARANTINE_KEEP_BYTES });
    this.quarantine.push({ hour, entry, afterSeq: this.nextSeq - 1 });
    this.quarantineBytes += entry.bytes.length;
    this.counts.invalid++;
  }

  // ---- time-driven work -----------------------------------------------------------------------

  /** Waits `ms` (between connections), still handing over batches, rotating and reporting. */
  private async idle(ms: number): Promise<void> {
    const until = this.now() + ms;
    while (!this.stopping && !this.o.stopSignal?.aborted && this.now() < until) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(0, Math.min(this.tickMs, until - this.now())));
        const signal = this.o.stopSignal;
        function done(): void {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        }
        signal?.addEventListener('abort', done);
      });
      await this.maintain();
    }
    if (this.o.stopSignal?.aborted) this.stopping = true;
  }

  /** Hands over a batch that waited long enough, lets the sink rotate and close hours, follows durability, reports. */
  private async maintain(): Promise<void> {
    const nowMs = this.now();
    this.nextMaintainAtMs = nowMs + this.tickMs;
    await this.lease!.ensure((2 * this.s.leaseTtlMs) / 3);
    const batch = this.batch;
    if (batch.bytes > 0 && (nowMs - batch.sinceMs >= Math.min(MAX_BATCH_AGE_MS, this.s.rotateAgeMs) || batch.hour !== hourIdOf(nowMs))) await this.writeBatch();
    await this.sink.tick(nowMs);
    const quarantineDue = this.quarantine.length > 0 && nowMs - Date.parse(this.quarantine[0]!.entry.receivedAt) >= this.s.rotateAgeMs;
    await this.settle(quarantineDue ? { quarantineDue: true } : {});
    this.planner.tick();
    await this.saveResume();
    if (nowMs - this.lastStats.atMs >= this.s.statsIntervalMs) this.report();
  }

  // ---- durability -----------------------------------------------------------------------------

  /**
   * Follows the sink: quarantines what it rejected, and once it says more is durable, writes the
   * quarantine that may go with it and (at most once a second, and always when forced) moves the
   * checkpoint. The checkpoint never gets ahead of the sink.
   */
  private async settle(options: { force?: boolean; quarantineAll?: boolean; quarantineDue?: boolean } = {}): Promise<void> {
    for (const r of this.sink.takeRejected()) {
      const entry = quarantineEntry(r.reason, r.record, this.now(), { source: redact(this.o.url), keepBytes: QUARANTINE_KEEP_BYTES });
      this.quarantine.push({ hour: hourIdOf(this.now()), entry, afterSeq: r.seq });
      this.quarantineBytes += entry.bytes.length;
      this.rejectedSeqs.push(r.seq);
      this.counts.invalid++;
    }
    const durable = this.sink.durableThrough();
    if (durable > this.durable) {
      this.durable = durable;
      const rejected = this.rejectedSeqs.length;
      this.rejectedSeqs = this.rejectedSeqs.filter((seq) => seq > durable);
      this.rejectedDurable += rejected - this.rejectedSeqs.length;
      this.counts.durable = durable - this.durableAtStart - this.rejectedDurable;
    }
    const moved = this.durable > this.checkpointed;
    const due = moved && this.now() - this.lastCheckpointAtMs >= MIN_CHECKPOINT_INTERVAL_MS;
    const flushable = this.quarantine.length > 0 && (options.quarantineAll || options.quarantineDue || due || options.force);
    if (!(due || options.force || flushable)) return;
    const wrote = await this.flushQuarantine(options.quarantineAll ? Number.POSITIVE_INFINITY : this.durable);
    if (moved || wrote || options.force) await this.checkpoint();
  }

  /** Writes pending quarantine entries that came after records ≤ throughSeq; true if any were written. */
  private async flushQuarantine(throughSeq: number): Promise<boolean> {
    const ready = this.quarantine.filter((q) => q.afterSeq <= throughSeq);
    if (ready.length === 0) return false;
    await this.holdWriter();
    this.quarantine = this.quarantine.filter((q) => q.afterSeq > throughSeq);
    this.quarantineBytes = this.quarantine.reduce((n, q) => n + q.entry.bytes.length, 0);
    let i = 0;
    while (i < ready.length) {
      const hour = ready[i]!.hour;
      let j = i;
      while (j < ready.length && ready[j]!.hour === hour) j++;
      const entries = ready.slice(i, j).map((q) => q.entry);
      await writeQuarantine(this.o.store, hour, this.writer, this.nextQuarantineSeq, entries);
      this.nextQuarantineSeq += entries.length;
      this.quarantineHour = hour;
      i = j;
    }
    return true;
  }

  /** Saves what is durable: the next sequence number, the sink's state, and the dedupe window without the records not yet durable. */
  private async checkpoint(): Promise<void> {
    await this.holdWriter();
    const durable = this.durable;
    this.planner.durable(this.pending.lastThrough(durable, 4));
    this.highestDurableMtime = Math.max(this.highestDurableMtime, this.pending.dropThrough(durable));
    this.dedupe.prune();
    let exclude: Set<string> | undefined;
    if (this.pending.size > 0) {
      exclude = new Set();
      this.pending.forEach((id, mtime) => exclude!.add(`${mtime}\u0000${id}`));
    }
    await saveCheckpoint(this.o.store, {
      version: 2,
      writer: this.writer,
      nextSeq: durable + 1,
      nextQuarantineSeq: this.nextQuarantineSeq,
      highestMtime: Number.isFinite(this.highestDurableMtime) ? this.highestDurableMtime : null,
      quarantineHour: this.quarantineHour,
      sink: { kind: this.sink.kind, state: this.sink.state() },
      dedupe: this.dedupe.toJSON(exclude),
      url: redact(this.o.url),
      updatedAt: new Date(this.now()).toISOString(),
    });
    this.checkpointed = durable;
    this.lastCheckpointAtMs = this.now();
    await this.saveResume(true);
  }

  /**
   * Writes the resume point when something changed (at most every RESUME_INTERVAL_MS unless
   * forced): the first records not yet durable and how many positions followed them, so that a
   * restart fetches them again whatever the sink's rotation.
   */
  private async saveResume(force = false): Promise<void> {
    const nowMs = this.now();
    const last = this.lastResume;
    if (last.bytes === this.counts.bytes && last.checkpointed === this.checkpointed && !force) return;
    if (!force && nowMs - last.atMs < RESUME_INTERVAL_MS) return;
    const point = this.planner.point(this.writer, this.checkpointed + 1, this.pending.size > 0 ? this.pending.minMtime() : null);
    if (!point) return; // nothing received yet
    await this.holdWriter();
    await saveResumePoint(this.o.store, point);
    this.lastResume = { atMs: nowMs, bytes: this.counts.bytes, checkpointed: this.checkpointed };
  }

  /**
   * Start-up: load the checkpoint, open the sink (which recovers what a crash published after the
   * checkpoint, so those records are neither lost nor stored twice), and find quarantine files a
   * crash wrote after the checkpoint.
   */
  private async recover(): Promise<void> {
    const [saved, resume] = await Promise.all([loadCheckpoint(this.o.store, this.writer), loadResumePoint(this.o.store, this.writer)]);
    this.planner.restore(resume, saved?.highestMtime ?? null);
    if (saved) {
      this.nextQuarantineSeq = saved.nextQuarantineSeq;
      this.quarantineHour = saved.quarantineHour;
      this.highestDurableMtime = saved.highestMtime ?? Number.NEGATIVE_INFINITY;
      this.dedupe.load(saved.dedupe);
    }
    const checkpointed = saved ? saved.nextSeq - 1 : 0;
    const recovery = await this.sink.open({
      writer: this.writer,
      checkpointedThrough: checkpointed,
      state: saved?.sink.kind === this.sink.kind ? saved.sink.state : undefined,
      beforePublish: () => this.holdWriter(),
      notice: (kind, message) => {
        if (kind === 'file') this.counts.files++;
        this.notice(kind, message);
      },
      log: (level, message, data) => this.log(level, message, data),
      now: this.now,
    });
    for (const r of recovery.recovered) {
      this.dedupe.add(r.id, r.mtime);
      if (r.mtime > this.highestDurableMtime) this.highestDurableMtime = r.mtime;
    }
    this.durable = this.checkpointed = this.durableAtStart = recovery.durableThrough;
    this.nextSeq = recovery.durableThrough + 1;
    this.pending.reset(this.nextSeq);
    const orphans = await this.recoverQuarantine(saved?.quarantineHour ?? null);
    if (recovery.durableThrough > checkpointed || orphans > 0) await this.checkpoint();
    // A run starting afresh says so before it connects: should it die before naming its first
    // record, the next run knows records may have been received and asks for them.
    if (this.planner.isFresh) await this.saveResume(true);
  }

  /** Moves nextQuarantineSeq past quarantine files a crash wrote after the checkpoint; returns how many. */
  private async recoverQuarantine(fromHour: HourId | null): Promise<number> {
    const nowHour = hourIdOf(this.now());
    const hours = fromHour ? hoursBetween(fromHour, nowHour) : await this.quarantineHours();
    const escaped = this.writer.replace(/[-]/g, '\\-');
    const quarantineName = new RegExp(`/${escaped}-(\\d+)\\.ndjson$`);
    let found = 0;
    for (const hour of hours) {
      for await (const info of this.o.store.list(`${QUARANTINE}/${hourPath(hour)}/`)) {
        const m = quarantineName.exec(info.key);
        if (!m || Number(m[1]) < this.nextQuarantineSeq) continue;
        const bytes = await this.o.store.get(info.key);
        const lines = bytes ? Buffer.from(bytes).toString('utf8').split('\n').filter(Boolean).length : 0;
        this.nextQuarantineSeq = Math.max(this.nextQuarantineSeq, Number(m[1]) + lines);
        this.quarantineHour = hour;
        found++;
      }
    }
    return found;
  }

  /** The hours quarantine holds (a first start, or a checkpoint from before quarantineHour). */
  private async quarantineHours(): Promise<HourId[]> {
    const hours = new Set(await rawHoursPresent(this.o.store));
    for await (const info of this.o.store.list(`${QUARANTINE}/`)) {
      const m = /^quarantine\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\//.exec(info.key);
      if (m) hours.add(`${m[1]}-${m[2]}-${m[3]}T${m[4]}`);
    }
    return [...hours].sort();
  }

  private async finish(): Promise<void> {
    this.stopping = true;
    await this.writeBatch();
    await this.sink.close();
    await this.settle({ force: true, quarantineAll: true });
    // A fresh run that received nothing leaves nothing to resume from.
    if (this.planner.isFresh) await this.o.store.delete(resumeKey(this.writer));
    await this.lease!.release();
    this.state = 'stopped';
    this.report();
  }

  // ---- reporting ------------------------------------------------------------------------------

  private stats(): StreamStats {
    const nowMs = this.now();
    const dt = Math.max(1, nowMs - this.lastStats.atMs) / 1000;
    const highest = this.dedupe.highestMtime;
    return {
      eventsPerSec: Math.round((this.counts.events - this.lastStats.events) / dt),
      bytesPerSec: Math.round((this.counts.bytes - this.lastStats.bytes) / dt),
      ...this.counts,
      lastEventAgeMs: this.lastEventAtMs === undefined ? null : nowMs - this.lastEventAtMs,
      highestMtime: Number.isFinite(highest) ? highest : null,
      state: this.state,
    };
  }

  private report(): void {
    const stats = this.stats();
    this.lastStats = { atMs: this.now(), events: this.counts.events, bytes: this.counts.bytes };
    this.telemetry.emit({ level: 'info', component: 'stream', kind: 'stats', msg: 'stream stats', data: { ...stats } });
    this.o.onStats?.(stats);
  }

  private notice(kind: StreamNotice['kind'], message: string): void {
    if (kind !== 'file') this.log(kind === 'disconnected' ? 'warn' : 'info', message);
    this.o.onNotice?.({ kind, message });
  }

  private log(level: 'info' | 'warn', msg: string, data?: Record<string, unknown>): void {
    this.telemetry.emit({ level, component: 'stream', kind: 'log', msg, ...(data ? { data } : {}) });
  }
}

/** A pooled batch: its buffer, the end offset and event id of each record in it. */
interface PooledBatch {
  buffer: Buffer;
  ends: Uint32Array;
  ids: string[];
  /** Records the i-th record's end offset and id (growing `ends` when needed). */
  add: (i: number, end: number, id: string) => void;
  /** Gives the batch back (idempotent). */
  release: () => void;
}

/** A few reusable batches; acquire() waits while all are with the sink. */
class BatchPool {
  private readonly free: Array<{ buffer: Buffer; ends: Uint32Array; ids: string[] }> = [];
  private waiters: Array<() => void> = [];

  constructor(count: number, private readonly size: number) {
    for (let i = 0; i < count; i++) this.free.push({ buffer: Buffer.allocUnsafe(size), ends: new Uint32Array(4096), ids: [] });
  }

  async acquire(bytes: number): Promise<PooledBatch> {
    // A batch bigger than a pooled buffer (one huge record) gets a buffer of its own.
    if (bytes > this.size) return pooled({ buffer: Buffer.allocUnsafe(bytes), ends: new Uint32Array(1), ids: [] }, () => undefined);
    while (this.free.length === 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
    const item = this.free.pop()!;
    item.ids.length = 0;
    return pooled(item, () => {
      this.free.push(item);
      this.waiters.shift()?.();
    });
  }
}

function pooled(item: { buffer: Buffer; ends: Uint32Array; ids: string[] }, giveBack: () => void): PooledBatch {
  let released = false;
  const batch: PooledBatch = {
    buffer: item.buffer,
    get ends() {
      return item.ends;
    },
    ids: item.ids,
    add: (i, end, id) => {
      if (i === item.ends.length) {
        const grown = new Uint32Array(item.ends.length * 2);
        grown.set(item.ends);
        item.ends = grown;
      }
      item.ends[i] = end;
      item.ids[i] = id;
    },
    release: () => {
      if (released) return;
      released = true;
      giveBack();
    },
  };
  return batch;
}

function describeError(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })?.cause;
  const parts = [errorMessage(error)];
  if (typeof code === 'string') parts.push(code);
  if (cause && typeof cause.code === 'string' && cause.code !== code) parts.push(cause.code);
  return parts.join(' ');
}
