import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import type { Config } from '../config/schema.ts';
import { UserError, errorMessage } from '../errors.ts';
import { hourIdOf, hoursBetween, hourPath, QUARANTINE, RAW, type HourId } from '../lake/layout.ts';
import { closeDueHours, closeHour, hourIsDue, rawHoursPresent } from '../lake/manifest.ts';
import { quarantineEntry, writeQuarantine, type QuarantineEntry } from '../lake/quarantine.ts';
import { RawWriter, type RawFile } from '../lake/raw-writer.ts';
import { decodeObject, splitRecords } from '../lake/records.ts';
import type { ObjectStore } from '../lake/store.ts';
import { nullTelemetry, type TelemetrySink } from '../telemetry/telemetry.ts';
import { parseRetryAfter, reconnectDelayMs } from './backoff.ts';
import { checkpointKey, loadCheckpoint, saveCheckpoint, WRITER_ID, type StreamCheckpoint } from './checkpoint.ts';
import { QUARANTINE_KEEP_BYTES, REASONS, validateLine } from './contract.ts';
import { DedupeWindow } from './dedupe.ts';
import { isOversized, LineFramer, type Framed } from './framing.ts';
import { openHttpStream, proxyDispatcher, type HttpStream } from './http-source.ts';

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
  /** Of those, events durable in the lake. */
  durable: number;
  /** Bytes received in this run. */
  bytes: number;
  reconnects: number;
  /** Records quarantined. */
  invalid: number;
  /** Exact (id, mtime) duplicates dropped. */
  duplicates: number;
  /** Partial records dropped because the connection ended mid-record (the source re-sends them on resume). */
  cutOff: number;
  /** Raw files published in this run. */
  files: number;
  /** Since the last valid event arrived; null before the first. */
  lastEventAgeMs: number | null;
  /** Highest mtime stored (resume point + window), null before the first event. */
  highestMtime: number | null;
  state: 'running' | 'reconnecting' | 'stopped';
}

/** Things worth a progress line: connections, disconnections, files, closed hours. */
export interface StreamNotice {
  kind: 'connecting' | 'connected' | 'disconnected' | 'file' | 'hour-closed' | 'recovered';
  message: string;
}

export interface StreamerOptions {
  url: string;
  store: ObjectStore;
  settings: StreamSettings;
  /** Names raw files, quarantine files and the checkpoint; one writer per running streamer. Default 'w1'. */
  writer?: string;
  /** Stop (exit cleanly) once this run has made this many events durable. */
  maxEvents?: number;
  stopSignal?: AbortSignal;
  telemetry?: TelemetrySink;
  /** Folder for files being written; default: `_state/stream/tmp` in a local lake, else the OS temp folder. */
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
  checkpoint: string;
  /** Wall-clock duration of the run, ms. */
  elapsedMs: number;
}

const NL = 0x0a;
/** Pending quarantine bytes that force a commit, so a flood of bad lines cannot grow memory. */
const MAX_PENDING_QUARANTINE_BYTES = 8 * 1024 * 1024;
/**
 * Accepted bytes gathered before one write to the compressor: one compressed block. Each block
 * costs the event loop a zlib set-up (with a 32 KiB dictionary); 1 MiB blocks measured 5–8%
 * faster end to end than 256 KiB ones.
 */
const WRITE_BATCH_BYTES = 1024 * 1024;

/**
 * Streams open_events from `url` into the raw lake until stopped (stopSignal) or until
 * `maxEvents` are durable. Reconnects with backoff and resumes from the checkpoint; never
 * prints — progress goes to onStats/onNotice and telemetry.
 */
export async function runStreamer(options: StreamerOptions): Promise<StreamSummary> {
  const streamer = new Streamer(options);
  return streamer.run();
}

class Streamer {
  private readonly o: StreamerOptions;
  private readonly s: StreamSettings;
  private readonly writer: string;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly telemetry: TelemetrySink;
  private readonly raw: RawWriter;
  private readonly framer: LineFramer;
  private readonly dedupe: DedupeWindow;
  private readonly tickMs: number;
  private readonly dispatcher: Dispatcher | undefined;

  private nextSeq = 1;
  private nextQuarantineSeq = 1;
  private lastHour: HourId | null = null;
  private openHours: StreamCheckpoint['openHours'] = {};
  private quarantine: Array<{ hour: HourId; entry: QuarantineEntry }> = [];
  private quarantineBytes = 0;
  private quarantineSinceMs = 0;

  private stopping = false;
  private stoppedBy: StreamSummary['stoppedBy'] = 'signal';
  private state: StreamStats['state'] = 'reconnecting';
  private readonly counts = { events: 0, durable: 0, bytes: 0, reconnects: 0, invalid: 0, duplicates: 0, cutOff: 0, files: 0 };
  private lastEventAtMs: number | undefined;
  private lastStats = { atMs: 0, events: 0, bytes: 0 };
  private readonly startedAtMs: number;
  private nextMaintainAtMs = 0;
  private readonly framed: Framed[] = [];
  /** Reused write buffers: a stream of ~100 MB/s would otherwise churn as much garbage memory. */
  private readonly buffers: BufferPool;
  /** WRITE_BATCH_BYTES, or less when files rotate at a smaller size (a block is the rotation step). */
  private readonly batchBytes: number;
  /**
   * Accepted lines not yet handed to the compressor: one arrival hour, sequence numbers first..,
   * copied into a pooled buffer as they are accepted, so no socket chunk outlives its own framing.
   */
  private batch: { hour: HourId; first: number; sinceMs: number; slot: PooledBuffer | undefined; bytes: number } = {
    hour: '',
    first: 1,
    sinceMs: 0,
    slot: undefined,
    bytes: 0,
  };

  constructor(options: StreamerOptions) {
    this.o = options;
    this.s = options.settings;
    this.writer = options.writer ?? 'w1';
    if (!WRITER_ID.test(this.writer)) {
      throw new UserError(`invalid writer id "${this.writer}"`, { hint: 'use letters, digits, "_" and "-" (up to 64)' });
    }
    if (options.maxEvents !== undefined && options.maxEvents <= 0) throw new UserError('--max-events must be at least 1');
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.telemetry = options.telemetry ?? nullTelemetry;
    const lakeTmp = options.store.localPath(`_state/stream/tmp`);
    // A remote lake writes its files in the OS temp folder first, in a folder of that lake's own.
    const remoteTmp = path.join(os.tmpdir(), 'openevents-stream', createHash('sha256').update(options.store.url).digest('hex').slice(0, 12));
    this.raw = new RawWriter(options.store, this.writer, options.tmpDir ?? lakeTmp ?? remoteTmp);
    this.framer = new LineFramer(this.s.maxRecordBytes, QUARANTINE_KEEP_BYTES);
    this.dedupe = new DedupeWindow({ windowMs: 2 * this.s.resumeWindowMs });
    this.tickMs = Math.max(20, Math.min(1000, this.s.stallTimeoutMs / 4, this.s.rotateAgeMs / 2, this.s.statsIntervalMs / 2));
    this.dispatcher = options.dispatcher ?? proxyDispatcher();
    this.batchBytes = Math.min(WRITE_BATCH_BYTES, this.s.rotateBytes);
    this.buffers = new BufferPool(3, this.batchBytes + 128 * 1024);
    this.startedAtMs = this.now();
    this.lastStats.atMs = this.startedAtMs;
    if (options.stopSignal?.aborted) this.stopping = true;
    options.stopSignal?.addEventListener('abort', () => (this.stopping = true), { once: true });
  }

  async run(): Promise<StreamSummary> {
    await this.recover();
    let failure: unknown;
    try {
      let attempt = 0;
      while (!this.stopping) {
        const outcome = await this.connectOnce();
        if (this.stopping) break;
        this.counts.reconnects++;
        this.state = 'reconnecting';
        if (outcome.progressed) attempt = 0;
        const delay = reconnectDelayMs(attempt, { initialMs: this.s.backoffInitialMs, maxMs: this.s.backoffMaxMs }, outcome.retryAfterMs, this.random);
        attempt++;
        const message = `disconnected: ${outcome.reason}; reconnecting in ${delay} ms`;
        this.notice('disconnected', message);
        await this.idle(delay);
      }
    } catch (error) {
      failure = error;
    }
    try {
      await this.finish();
    } catch (error) {
      throw failure ?? error;
    } finally {
      if (!this.o.dispatcher) await this.dispatcher?.close();
    }
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
      checkpoint: checkpointKey(this.writer),
      elapsedMs: this.now() - this.startedAtMs,
    };
  }

  // ---- connection ---------------------------------------------------------------------------

  private resumeUrl(): string {
    const url = new URL(this.o.url);
    const highest = this.dedupe.highestMtime;
    if (Number.isFinite(highest)) {
      url.searchParams.delete('since_count');
      url.searchParams.set('since_mtime', String(Math.max(0, highest - this.s.resumeWindowMs)));
    }
    return url.toString();
  }

  /** One connection, until it breaks or the streamer stops. */
  private async connectOnce(): Promise<{ reason: string; retryAfterMs?: number; progressed: boolean }> {
    const url = this.resumeUrl();
    const shown = redact(url);
    const abort = new AbortController();
    const onStop = (): void => abort.abort();
    this.o.stopSignal?.addEventListener('abort', onStop);
    let progressed = false;
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
        return { reason: describeError(error), progressed };
      }
      if (res.status !== 200) {
        res.close();
        const retryAfterMs = parseRetryAfter(res.headers['retry-after'], this.now());
        if (res.status === 429 || res.status >= 500) {
          return { reason: `HTTP ${res.status}`, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), progressed };
        }
        throw new UserError(`the source answered HTTP ${res.status} for ${shown}`, {
          hint: 'check --url (or config source.url): it should be an open_events stream such as http://127.0.0.1:8088/2/open_events',
        });
      }
      this.state = 'running';
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
        if (this.stopping) {
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
      return { reason: this.stopping ? 'stopped' : reason, progressed };
    } finally {
      this.o.stopSignal?.removeEventListener('abort', onStop);
    }
  }

  /** Frames, validates, dedupes and writes one chunk. Pauses reading until the writer has room. */
  private async onChunk(chunk: Buffer): Promise<void> {
    const nowMs = this.now();
    const hour = hourIdOf(nowMs);
    const openHour = this.batch.bytes > 0 ? this.batch.hour : this.raw.current?.hour;
    if (openHour !== undefined && openHour !== hour) await this.commit();
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
      const v = validateLine(line, this.s.maxRecordBytes);
      if (v.kind === 'blank') continue;
      if (v.kind === 'invalid') {
        this.reject(hour, nowMs, v.reason, line, line.length);
        continue;
      }
      if (!this.dedupe.add(v.id, v.mtime)) {
        this.counts.duplicates++;
        continue;
      }
      const slot = batch.bytes > 0 && batch.bytes + line.length + 1 <= batch.slot!.buffer.length ? batch.slot! : await this.startBatch(hour, nowMs, line.length + 1);
      batch.bytes += line.copy(slot.buffer, batch.bytes);
      slot.buffer[batch.bytes++] = NL;
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
    const current = this.raw.current;
    if ((current && current.compressedBytes >= this.s.rotateBytes) || this.quarantineBytes >= MAX_PENDING_QUARANTINE_BYTES) {
      await this.commit();
    }
  }

  /** Hands the open batch (if any) to the compressor and starts one with room for `bytes`. */
  private async startBatch(hour: HourId, nowMs: number, bytes: number): Promise<PooledBuffer> {
    await this.writeBatch();
    const slot = await this.buffers.acquire(bytes);
    Object.assign(this.batch, { hour, first: this.nextSeq, sinceMs: nowMs, slot, bytes: 0 });
    return slot;
  }

  /** Hands the batched lines to the compressor (fewer, larger writes cost the event loop less). */
  private async writeBatch(): Promise<void> {
    const batch = this.batch;
    const slot = batch.slot;
    if (!slot) return;
    const last = this.nextSeq - 1;
    const bytes = batch.bytes;
    batch.slot = undefined;
    batch.bytes = 0;
    if (bytes === 0) return slot.release();
    await this.raw.write(batch.hour, batch.first, last, slot.buffer.subarray(0, bytes), batch.sinceMs, slot.release);
  }

  private reject(hour: HourId, nowMs: number, reason: string, bytes: Buffer, length: number): void {
    if (this.quarantine.length === 0) this.quarantineSinceMs = nowMs;
    const entry = quarantineEntry(reason, bytes, nowMs, { length, source: redact(this.o.url), keepBytes: QUARANTINE_KEEP_BYTES });
    this.quarantine.push({ hour, entry });
    this.quarantineBytes += entry.bytes.length;
    this.counts.invalid++;
  }

  // ---- time-driven work -----------------------------------------------------------------------

  /** Waits `ms` (between connections), still rotating files, closing hours and reporting. */
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

  /** Rotation by age and hour, due hours, periodic stats. */
  private async maintain(): Promise<void> {
    const nowMs = this.now();
    this.nextMaintainAtMs = nowMs + this.tickMs;
    const open = this.raw.current ?? (this.batch.bytes > 0 ? { openedAtMs: this.batch.sinceMs, hour: this.batch.hour } : undefined);
    const fileDue = open !== undefined && (nowMs - open.openedAtMs >= this.s.rotateAgeMs || open.hour !== hourIdOf(nowMs));
    const quarantineDue = this.quarantine.length > 0 && nowMs - this.quarantineSinceMs >= this.s.rotateAgeMs;
    if (fileDue || quarantineDue) await this.commit();
    await this.closeDue(nowMs);
    if (nowMs - this.lastStats.atMs >= this.s.statsIntervalMs) this.report();
  }

  private async closeDue(nowMs: number): Promise<void> {
    let changed = false;
    for (const hour of Object.keys(this.openHours).sort()) {
      if (!hourIsDue(hour, nowMs, this.s.hourGraceMs) || this.raw.current?.hour === hour || (this.batch.bytes > 0 && this.batch.hour === hour)) continue;
      const known = new Map((this.openHours[hour] ?? []).map((f) => [f.key, f.records]));
      const manifest = await closeHour(this.o.store, hour, nowMs, known);
      delete this.openHours[hour];
      changed = true;
      this.notice('hour-closed', `closed hour ${hour}: ${manifest.files.length} files, ${manifest.records} records`);
    }
    if (changed) await this.checkpoint();
  }

  // ---- durability -----------------------------------------------------------------------------

  /** Publishes the open file and pending quarantine, then (only then) moves the checkpoint. */
  private async commit(): Promise<RawFile | undefined> {
    await this.writeBatch();
    const file = await this.raw.close();
    if (file) {
      (this.openHours[file.hour] ??= []).push({ key: file.key, records: file.records });
      this.lastHour = file.hour;
      this.counts.durable += file.records;
      this.counts.files++;
      this.notice('file', `wrote ${file.key} (${file.records} records, ${file.bytes} bytes)`);
    }
    const flushed = await this.flushQuarantine();
    if (file || flushed) await this.checkpoint();
    return file;
  }

  private async flushQuarantine(): Promise<boolean> {
    if (this.quarantine.length === 0) return false;
    let i = 0;
    while (i < this.quarantine.length) {
      const hour = this.quarantine[i]!.hour;
      let j = i;
      while (j < this.quarantine.length && this.quarantine[j]!.hour === hour) j++;
      const entries = this.quarantine.slice(i, j).map((q) => q.entry);
      await writeQuarantine(this.o.store, hour, this.writer, this.nextQuarantineSeq, entries);
      this.nextQuarantineSeq += entries.length;
      i = j;
    }
    this.quarantine = [];
    this.quarantineBytes = 0;
    return true;
  }

  private async checkpoint(): Promise<void> {
    this.dedupe.prune();
    const highest = this.dedupe.highestMtime;
    await saveCheckpoint(this.o.store, {
      version: 1,
      writer: this.writer,
      nextSeq: this.nextSeq,
      nextQuarantineSeq: this.nextQuarantineSeq,
      highestMtime: Number.isFinite(highest) ? highest : null,
      lastHour: this.lastHour,
      openHours: this.openHours,
      dedupe: this.dedupe.toJSON(),
      url: redact(this.o.url),
      updatedAt: new Date(this.now()).toISOString(),
    });
  }

  /**
   * Start-up: drop temporary files of a killed run, load the checkpoint, fold in files that a
   * crash published after the last checkpoint (so their records are neither lost nor written
   * twice), and close hours that are due.
   */
  private async recover(): Promise<void> {
    const removed = await this.raw.cleanTemp();
    const saved = await loadCheckpoint(this.o.store, this.writer);
    if (saved) {
      this.nextSeq = saved.nextSeq;
      this.nextQuarantineSeq = saved.nextQuarantineSeq;
      this.lastHour = saved.lastHour;
      this.openHours = saved.openHours ?? {};
      this.dedupe.load(saved.dedupe);
    }
    const nowMs = this.now();
    const hours = this.lastHour ? hoursBetween(this.lastHour, hourIdOf(nowMs)) : await this.allHours();
    const escaped = this.writer.replace(/[-]/g, '\\-');
    const rawName = new RegExp(`/${escaped}-(\\d+)-(\\d+)\\.ndjson\\.gz$`);
    const quarantineName = new RegExp(`/${escaped}-(\\d+)\\.ndjson$`);
    let orphans = 0;
    for (const hour of hours) {
      for await (const info of this.o.store.list(`${RAW}/${hourPath(hour)}/`)) {
        const m = rawName.exec(info.key);
        if (!m || Number(m[1]) < this.nextSeq) continue;
        const bytes = await this.o.store.get(info.key);
        if (!bytes) continue;
        let records = 0;
        for (const line of splitRecords(await decodeObject(bytes))) {
          const v = validateLine(line, Number.MAX_SAFE_INTEGER);
          if (v.kind === 'valid') this.dedupe.add(v.id, v.mtime);
          records++;
        }
        this.nextSeq = Math.max(this.nextSeq, Number(m[2]) + 1);
        (this.openHours[hour] ??= []).push({ key: info.key, records });
        this.lastHour = hour;
        orphans++;
      }
      for await (const info of this.o.store.list(`${QUARANTINE}/${hourPath(hour)}/`)) {
        const m = quarantineName.exec(info.key);
        if (!m || Number(m[1]) < this.nextQuarantineSeq) continue;
        const bytes = await this.o.store.get(info.key);
        const lines = bytes ? Buffer.from(bytes).toString('utf8').split('\n').filter(Boolean).length : 0;
        this.nextQuarantineSeq = Math.max(this.nextQuarantineSeq, Number(m[1]) + lines);
      }
    }
    if (orphans > 0 || removed > 0) {
      this.notice('recovered', `recovered after an unclean stop: ${orphans} files published after the last checkpoint, ${removed} temporary files removed`);
      await this.checkpoint();
    }
    // Hours anyone left open (an import, a crashed writer) are closed once due.
    await closeDueHours(this.o.store, nowMs, this.s.hourGraceMs);
    await this.closeDue(nowMs);
  }

  private allHours(): Promise<HourId[]> {
    return rawHoursPresent(this.o.store);
  }

  private async finish(): Promise<void> {
    this.stopping = true;
    await this.commit();
    await this.closeDue(this.now());
    await this.checkpoint();
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

interface PooledBuffer {
  buffer: Buffer;
  /** Gives the buffer back (idempotent). */
  release: () => void;
}

/** A few reusable buffers; acquire() waits while all are with the compressor. */
class BufferPool {
  private readonly free: Buffer[] = [];
  private waiters: Array<() => void> = [];

  constructor(count: number, private readonly size: number) {
    for (let i = 0; i < count; i++) this.free.push(Buffer.allocUnsafe(size));
  }

  async acquire(bytes: number): Promise<PooledBuffer> {
    // A batch bigger than a pooled buffer (one huge record) gets a buffer of its own.
    if (bytes > this.size) return { buffer: Buffer.allocUnsafe(bytes), release: () => undefined };
    while (this.free.length === 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
    const buffer = this.free.pop()!;
    let released = false;
    return {
      buffer,
      release: () => {
        if (released) return;
        released = true;
        this.free.push(buffer);
        this.waiters.shift()?.();
      },
    };
  }
}

/** The URL without user:password, for logs, files and the terminal. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

function describeError(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })?.cause;
  const parts = [errorMessage(error)];
  if (typeof code === 'string') parts.push(code);
  if (cause && typeof cause.code === 'string' && cause.code !== code) parts.push(cause.code);
  return parts.join(' ');
}
