import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { hourIdOf, hoursBetween, rawHourPrefix, STATE, type HourId } from '../lake/layout.ts';
import { acquireLease, LeaseHeldError, LeaseLostError, type Lease } from '../lake/lease.ts';
import { closeHour, hourIsDue, rawHoursPresent } from '../lake/manifest.ts';
import { RawWriter } from '../lake/raw-writer.ts';
import { countRecords } from '../lake/records.ts';
import { getJson, putJson, type ObjectStore } from '../lake/store.ts';
import { backoffDelayMs } from '../stream/backoff.ts';
import { nullTelemetry, type TelemetrySink } from '../telemetry/telemetry.ts';
import { classifyFailure, describeFailure, RETRY_BACKOFF, sleep } from './retry.ts';
import { compareSequence, listShards, ShardReader, type ShardInfo, type ShardRecord } from './kinesis-read.ts';

/** When to publish raw objects and close hours, and how long a shard's lease lasts (config `stream.*`). */
export interface LanderSettings {
  rotateBytes: number;
  rotateAgeMs: number;
  hourGraceMs: number;
  leaseTtlMs: number;
  statsIntervalMs: number;
}

/** One shard as the lander sees it (in stats and the summary). */
export interface ShardProgress {
  shard: string;
  state: 'reading' | 'caught-up' | 'ended' | 'stopped';
  /** MillisBehindLatest of the last read. */
  lagMs: number;
  /** The last sequence number landed (durable in the lake), null before the first. */
  landed: string | null;
}

/** What the lander reports every `statsIntervalMs` and on exit (telemetry `kind: 'stats'`, component 'land'). */
export interface LandStats {
  /** Records landed (durable in the lake) per second over the last interval. */
  recordsPerSec: number;
  /** Records and bytes landed in this run. */
  records: number;
  bytes: number;
  /** Raw objects published in this run. */
  objects: number;
  /** The largest MillisBehindLatest of the shards this lander reads: how far the lake trails the stream. */
  lagMs: number;
  /** The shards this lander holds now. */
  shards: ShardProgress[];
  state: 'running' | 'stopped';
}

/** The outcome of a run. */
export interface LandSummary extends LandStats {
  stream: string;
  lake: string;
  stoppedBy: 'signal' | 'drained';
  /** Every shard this run held and read, with the records it landed from each. */
  landedShards: Record<string, number>;
  /** Shards another lander held (they were left to it). */
  heldElsewhere: string[];
  elapsedMs: number;
}

export interface LandNotice {
  kind: 'shard' | 'object' | 'hour-closed' | 'recovered' | 'retry';
  message: string;
}

export interface LanderOptions {
  client: KinesisClient;
  stream: string;
  store: ObjectStore;
  settings: LanderSettings;
  /** Drain every shard this lander can take to its current end, then stop. */
  once?: boolean;
  stopSignal?: AbortSignal;
  telemetry?: TelemetrySink;
  onStats?: (stats: LandStats) => void;
  onNotice?: (notice: LandNotice) => void;
  now?: () => number;
  random?: () => number;
  /** How often to look for shards to take (new children, expired leases); default 10 s. */
  discoveryIntervalMs?: number;
  /** Folder for objects being written; default: `_state/land/tmp` in a local lake, else one under the OS temp folder. */
  tmpDir?: string;
}

/** A shard's checkpoint, `_state/land/<stream>/<shard>.json`: written after the objects it names are durable. */
export interface ShardCheckpoint {
  version: 1;
  stream: string;
  shard: string;
  /** The last sequence number landed; null before the first. */
  lastSequence: string | null;
  /** The shard is closed and everything in it landed: its children may be read. */
  finished: boolean;
  /** The arrival hour of the newest object (where a crash's unrecorded objects can start). */
  lastHour: HourId | null;
  /** Hours written to that have no manifest yet, with the objects' record counts. */
  openHours: Record<HourId, Array<{ key: string; records: number }>>;
  updatedAt: string;
}

/** Records gathered before one compressed block is handed to the raw writer. */
const BLOCK_BYTES = 1024 * 1024;
/** Between reads of a shard that is caught up (Kinesis' read limit is 5 per second per shard; KCL's default is 1 s). */
const IDLE_POLL_MS = 1_000;

/** The checkpoint key of a shard. */
export function shardCheckpointKey(stream: string, shard: string): string {
  return `${STATE}/land/${stream}/${shard}.json`;
}

/** The lease name of a shard: one lander reads it at a time. */
export function shardLeaseName(stream: string, shard: string): string {
  return `land/${stream}/${shard}`;
}

/** Lands a Kinesis stream in the lake; see Lander. */
export function runLander(options: LanderOptions): Promise<LandSummary> {
  return new Lander(options).run();
}

/**
 * The lander (`openevents land`): reads every shard of a Kinesis stream and writes its records
 * to the raw lake, `raw/YYYY/MM/DD/HH/<shard>-<first>-<last>.ndjson.gz` by the hour Kinesis
 * received them (ApproximateArrivalTimestamp), through the lake's raw writer; closes hours with
 * the same manifest as the streamer; checkpoints each shard after its object is durable.
 *
 * Through resharding, a shard is read only once its parents are finished (read to their end),
 * so one event's versions land in order. Each shard is held under a lease in `_state/leases/`,
 * so two landers never read one shard at once; a dead lander's lease expires (at once when it
 * ran on this machine) and another takes over from the checkpoint. Objects a crash published
 * after the checkpoint are found again by name, so nothing is landed twice.
 */
class Lander {
  private readonly o: LanderOptions;
  private readonly s: LanderSettings;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly telemetry: TelemetrySink;
  private readonly stop = new AbortController();
  private readonly tmpDir: string;
  private readonly tasks = new Map<string, Promise<void>>();
  /** The reader of each shard being landed, to hand it newer listings (a shard closing by a reshard). */
  private readonly readers = new Map<string, ShardReader>();
  private readonly progress = new Map<string, ShardProgress>();
  private readonly finished = new Set<string>();
  /** With --once: shards read to their current end in this run (not taken again). */
  private readonly drained = new Set<string>();
  private readonly landed = new Map<string, number>();
  private readonly held = new Set<string>();
  private readonly counts = { records: 0, bytes: 0, objects: 0 };
  private lastStats = { atMs: 0, records: 0 };
  private readonly startedAtMs: number;
  private failure: unknown;
  private wakeUp: (() => void) | undefined;

  constructor(options: LanderOptions) {
    this.o = options;
    this.s = options.settings;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.telemetry = options.telemetry ?? nullTelemetry;
    const remoteTmp = path.join(os.tmpdir(), 'openevents-land', createHash('sha256').update(options.store.url).digest('hex').slice(0, 12));
    this.tmpDir = options.tmpDir ?? options.store.localPath(`${STATE}/land/tmp`) ?? remoteTmp;
    this.startedAtMs = this.now();
    this.lastStats.atMs = this.startedAtMs;
    const outer = options.stopSignal;
    if (outer?.aborted) this.stop.abort();
    outer?.addEventListener('abort', () => this.halt(), { once: true });
  }

  async run(): Promise<LandSummary> {
    await this.o.client.send(new DescribeStreamSummaryCommand({ StreamName: this.o.stream }));
    const statsTimer = setInterval(() => this.report(), this.s.statsIntervalMs);
    let stoppedBy: LandSummary['stoppedBy'] = 'signal';
    try {
      for (let attempt = 0; !this.stop.signal.aborted && this.failure === undefined; ) {
        let started: boolean;
        try {
          started = await this.takeShards();
          attempt = 0;
        } catch (error) {
          if (classifyFailure(error) === 'fatal') throw error;
          // The stream or the lake failed for a moment: look again shortly.
          const delay = backoffDelayMs(Math.min(attempt++, 6), RETRY_BACKOFF, this.random) + 500;
          this.notice('retry', `looking for shards: ${describeFailure(error)}; again in ${delay} ms`);
          await this.waitForChange(delay);
          continue;
        }
        if (this.o.once && this.tasks.size === 0 && !started) {
          stoppedBy = 'drained';
          break;
        }
        await this.waitForChange(this.o.discoveryIntervalMs ?? 10_000);
      }
    } finally {
      this.halt();
      await Promise.allSettled(this.tasks.values());
      clearInterval(statsTimer);
    }
    if (this.failure !== undefined) throw this.failure;
    const stats = this.stats('stopped');
    this.emitStats(stats);
    const elapsedS = Math.max(1, this.now() - this.startedAtMs) / 1000;
    return {
      ...stats,
      recordsPerSec: Math.round(this.counts.records / elapsedS),
      stream: this.o.stream,
      lake: this.o.store.url,
      stoppedBy,
      landedShards: Object.fromEntries([...this.landed].sort(([a], [b]) => (a < b ? -1 : 1))),
      heldElsewhere: [...this.held].filter((s) => !this.landed.has(s)).sort(),
      elapsedMs: this.now() - this.startedAtMs,
    };
  }

  /** Starts a task for every shard that is ready (parents finished) and not held elsewhere; true if any started. */
  private async takeShards(): Promise<boolean> {
    const shards = await listShards(this.o.client, this.o.stream);
    const known = new Set(shards.map((s) => s.id));
    let started = false;
    // A random order: landers starting together spread over the shards.
    for (const shard of shards) {
      const reader = this.readers.get(shard.id);
      if (reader) reader.shard = shard;
    }
    for (const shard of shuffle(shards, this.random)) {
      if (this.stop.signal.aborted || this.tasks.has(shard.id) || this.finished.has(shard.id) || this.drained.has(shard.id)) continue;
      const checkpoint = await this.loadCheckpoint(shard.id);
      if (checkpoint?.finished) {
        this.finished.add(shard.id);
        continue;
      }
      // Parents first: a parent past retention (no longer listed) has nothing left to read.
      let ready = true;
      for (const parent of shard.parents) {
        if (!known.has(parent) || this.finished.has(parent)) continue;
        if ((await this.loadCheckpoint(parent))?.finished) this.finished.add(parent);
        else ready = false;
      }
      if (!ready) continue;
      let lease: Lease;
      try {
        lease = await acquireLease(this.o.store, shardLeaseName(this.o.stream, shard.id), { ttlMs: this.s.leaseTtlMs, now: this.now });
      } catch (error) {
        if (!(error instanceof LeaseHeldError)) throw error;
        if (!this.held.has(shard.id)) this.notice('shard', `${shard.id}: ${error.message}; leaving it to that lander`);
        this.held.add(shard.id);
        continue;
      }
      this.held.delete(shard.id);
      started = true;
      this.landed.set(shard.id, this.landed.get(shard.id) ?? 0);
      const task = this.landShard(shard, lease)
        .catch((error: unknown) => {
          this.failure ??= error;
          this.halt();
        })
        .finally(() => {
          this.tasks.delete(shard.id);
          this.wakeUp?.();
        });
      this.tasks.set(shard.id, task);
    }
    return started;
  }

  /** Lands one shard under its lease until it ends, is caught up (--once) or the lander stops; retries transient failures from the checkpoint. */
  private async landShard(shard: ShardInfo, lease: Lease): Promise<void> {
    this.notice('shard', `${shard.id}: reading (lease generation ${lease.generation})`);
    let lost = false;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const outcome = await new ShardLanding(this, shard, lease).run();
          if (outcome === 'ended') {
            this.finished.add(shard.id);
            this.notice('shard', `${shard.id}: closed and read to its end`);
          } else if (outcome === 'caught-up') this.drained.add(shard.id);
          return;
        } catch (error) {
          if (this.stop.signal.aborted && isAbort(error)) return;
          if (error instanceof LeaseLostError) {
            // Another lander took the shard over (this one was frozen or cut off): leave it to it.
            lost = true;
            this.notice('retry', `${shard.id}: ${error.message}`);
            return;
          }
          if (classifyFailure(error) === 'fatal') throw error;
          const delay = backoffDelayMs(Math.min(attempt, 6), RETRY_BACKOFF, this.random) + 500;
          this.notice('retry', `${shard.id}: ${describeFailure(error)}; starting again from its checkpoint in ${delay} ms`);
          await sleep(delay, this.stop.signal);
          if (this.stop.signal.aborted) return;
        }
      }
    } finally {
      this.progress.delete(shard.id);
      this.readers.delete(shard.id);
      if (!lost) await lease.release().catch(() => undefined);
    }
  }

  // ---- shared with ShardLanding ---------------------------------------------------------------

  get options(): LanderOptions {
    return this.o;
  }
  get settings(): LanderSettings {
    return this.s;
  }
  get signal(): AbortSignal {
    return this.stop.signal;
  }
  get tmp(): string {
    return this.tmpDir;
  }
  clock(): number {
    return this.now();
  }
  rand(): number {
    return this.random();
  }

  loadCheckpoint(shard: string): Promise<ShardCheckpoint | undefined> {
    return getJson<ShardCheckpoint>(this.o.store, shardCheckpointKey(this.o.stream, shard));
  }

  saveCheckpoint(checkpoint: ShardCheckpoint): Promise<void> {
    return putJson(this.o.store, shardCheckpointKey(this.o.stream, checkpoint.shard), { ...checkpoint, updatedAt: new Date(this.now()).toISOString() });
  }

  published(shard: string, records: number, bytes: number): void {
    this.landed.set(shard, (this.landed.get(shard) ?? 0) + records);
    this.counts.records += records;
    this.counts.bytes += bytes;
    this.counts.objects++;
  }

  register(reader: ShardReader): void {
    this.readers.set(reader.shard.id, reader);
  }

  setProgress(p: ShardProgress): void {
    this.progress.set(p.shard, p);
  }

  notice(kind: LandNotice['kind'], message: string): void {
    if (kind !== 'object') this.telemetry.emit({ level: kind === 'retry' ? 'warn' : 'info', component: 'land', kind: 'log', msg: message });
    this.o.onNotice?.({ kind, message });
  }

  // ---- internals ------------------------------------------------------------------------------

  private halt(): void {
    if (!this.stop.signal.aborted) this.stop.abort();
    this.wakeUp?.();
  }

  private waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.wakeUp = undefined;
        resolve();
      }
      this.wakeUp = done;
      if (this.stop.signal.aborted) done();
    });
  }

  private stats(state: LandStats['state']): LandStats {
    const nowMs = this.now();
    const dt = Math.max(1, nowMs - this.lastStats.atMs) / 1000;
    const shards = [...this.progress.values()].sort((a, b) => (a.shard < b.shard ? -1 : 1));
    return {
      recordsPerSec: Math.round((this.counts.records - this.lastStats.records) / dt),
      ...this.counts,
      lagMs: shards.reduce((m, s) => Math.max(m, s.lagMs), 0),
      shards,
      state,
    };
  }

  private report(): void {
    const stats = this.stats('running');
    this.lastStats = { atMs: this.now(), records: this.counts.records };
    this.emitStats(stats);
  }

  private emitStats(stats: LandStats): void {
    this.telemetry.emit({ level: 'info', component: 'land', kind: 'stats', msg: 'land stats', data: { stream: this.o.stream, ...stats } });
    this.o.onStats?.(stats);
  }
}

/** One shard's landing under its lease, from its checkpoint: read, write objects, checkpoint, close hours. */
class ShardLanding {
  private checkpoint!: ShardCheckpoint;
  private readonly raw: RawWriter<string>;
  private readonly shardId: string;
  /** Records read but not yet handed to the raw writer: one arrival hour. */
  private block: { hour: HourId; first: string; last: string; chunks: Buffer[]; bytes: number; startedAtMs: number } | undefined;
  private lagMs = 0;

  constructor(
    private readonly lander: Lander,
    private readonly shard: ShardInfo,
    private readonly lease: Lease,
  ) {
    this.shardId = shard.id;
    this.raw = new RawWriter<string>(lander.options.store, shard.id, lander.tmp);
  }

  async run(): Promise<'ended' | 'caught-up' | 'stopped'> {
    const { options, settings } = this.lander;
    const saved = await this.lander.loadCheckpoint(this.shardId);
    this.checkpoint = saved ?? { version: 1, stream: options.stream, shard: this.shardId, lastSequence: null, finished: false, lastHour: null, openHours: {}, updatedAt: '' };
    await this.raw.cleanTemp();
    await this.recoverObjects();
    const reader = new ShardReader(options.client, options.stream, this.shard, this.checkpoint.lastSequence ? { after: this.checkpoint.lastSequence } : 'trim-horizon', {
      random: () => this.lander.rand(),
      now: () => this.lander.clock(),
      signal: this.lander.signal,
      onRetry: (what) => this.lander.notice('retry', what),
    });
    this.lander.register(reader);
    try {
      for (;;) {
        // Stopping: what was read is published and checkpointed, then the shard is released.
        const page = this.lander.signal.aborted ? undefined : await reader.read().catch((error: unknown) => (this.lander.signal.aborted && isAbort(error) ? undefined : Promise.reject(error)));
        if (!page) {
          await this.publish();
          await this.closeDue(this.lander.clock());
          this.report('stopped');
          return 'stopped';
        }
        this.lagMs = page.millisBehindLatest;
        for (const record of page.records) await this.add(record);
        const nowMs = this.lander.clock();
        const open = this.raw.current;
        const openedAt = open?.openedAtMs ?? this.block?.startedAtMs;
        if (openedAt !== undefined && (nowMs - openedAt >= settings.rotateAgeMs || (open?.compressedBytes ?? 0) >= settings.rotateBytes)) await this.publish();
        await this.closeDue(nowMs);
        await this.lease.ensure(settings.leaseTtlMs / 2);
        if (page.ended) {
          await this.publish();
          this.checkpoint.finished = true;
          await this.lander.saveCheckpoint(this.checkpoint);
          this.report('ended');
          return 'ended';
        }
        const caughtUp = page.records.length === 0 && page.millisBehindLatest === 0;
        this.report(caughtUp ? 'caught-up' : 'reading');
        if (caughtUp && options.once) {
          await this.publish();
          await this.closeDue(this.lander.clock());
          return 'caught-up';
        }
        if (caughtUp) await sleep(IDLE_POLL_MS, this.lander.signal);
      }
    } catch (error) {
      await this.raw.discard();
      throw error;
    }
  }

  /** Adds a record to the block of its arrival hour, handing full blocks to the raw writer and publishing at an hour change or the size limit. */
  private async add(record: ShardRecord): Promise<void> {
    if (record.data.length === 0) return;
    const hour = hourIdOf(record.arrivedAtMs);
    if ((this.block && this.block.hour !== hour) || (this.raw.current && this.raw.current.hour !== hour)) await this.publish();
    const data = Buffer.from(record.data.buffer, record.data.byteOffset, record.data.byteLength);
    const block = (this.block ??= { hour, first: record.seq, last: record.seq, chunks: [], bytes: 0, startedAtMs: this.lander.clock() });
    block.chunks.push(data);
    block.bytes += data.length;
    // Each record is one line: a producer's record that already ends with "\n" gets no second one.
    if (data[data.length - 1] !== 0x0a) {
      block.chunks.push(NEWLINE);
      block.bytes++;
    }
    block.last = record.seq;
    if (block.bytes >= BLOCK_BYTES) await this.writeBlock();
    if ((this.raw.current?.compressedBytes ?? 0) >= this.lander.settings.rotateBytes) await this.publish();
  }

  private async writeBlock(): Promise<void> {
    const block = this.block;
    if (!block) return;
    this.block = undefined;
    await this.raw.write(block.hour, block.first, block.last, Buffer.concat(block.chunks, block.bytes), this.lander.clock());
  }

  /** Publishes the open object (fenced by the lease), then checkpoints: the records in it are landed. */
  private async publish(): Promise<void> {
    await this.writeBlock();
    if (!this.raw.current) return;
    await this.lease.ensure(this.lander.settings.leaseTtlMs / 2);
    const file = await this.raw.close();
    if (!file) return;
    const c = this.checkpoint;
    (c.openHours[file.hour] ??= []).push({ key: file.key, records: file.records });
    c.lastSequence = file.last;
    c.lastHour = file.hour;
    await this.lander.saveCheckpoint(c);
    this.lander.published(this.shardId, file.records, file.bytes);
    this.lander.notice('object', `wrote ${file.key} (${file.records} records, ${file.bytes} bytes)`);
  }

  /** Closes the hours this shard wrote to that are due, except the one it is writing. */
  private async closeDue(nowMs: number): Promise<void> {
    const writing = this.raw.current?.hour ?? this.block?.hour;
    let changed = false;
    for (const hour of Object.keys(this.checkpoint.openHours).sort()) {
      if (hour === writing || !hourIsDue(hour, nowMs, this.lander.settings.hourGraceMs)) continue;
      const known = new Map((this.checkpoint.openHours[hour] ?? []).map((f) => [f.key, f.records]));
      const manifest = await closeHour(this.lander.options.store, hour, nowMs, known);
      delete this.checkpoint.openHours[hour];
      changed = true;
      this.lander.notice('hour-closed', `closed hour ${hour}: ${manifest.files.length} files, ${manifest.records} records`);
    }
    if (changed) await this.lander.saveCheckpoint(this.checkpoint);
  }

  /** Finds this shard's objects published after the checkpoint (a crash between the two) by name, and moves the checkpoint past them. */
  private async recoverObjects(): Promise<void> {
    const c = this.checkpoint;
    const store = this.lander.options.store;
    const hours = c.lastHour ? hoursBetween(c.lastHour, hourIdOf(this.lander.clock())) : await rawHoursPresent(store);
    const name = new RegExp(`/${this.shardId.replace(/[-]/g, '\\-')}-(\\d+)-(\\d+)\\.ndjson\\.gz$`);
    let found = 0;
    for (const hour of hours) {
      for await (const info of store.list(rawHourPrefix(hour))) {
        const m = name.exec(info.key);
        if (!m || (c.lastSequence !== null && compareSequence(m[1]!, c.lastSequence) <= 0)) continue;
        const bytes = await store.get(info.key);
        if (!bytes) continue;
        (c.openHours[hour] ??= []).push({ key: info.key, records: await countRecords(bytes) });
        if (c.lastSequence === null || compareSequence(m[2]!, c.lastSequence) > 0) c.lastSequence = m[2]!;
        c.lastHour = hour;
        found++;
      }
    }
    if (found > 0) {
      await this.lander.saveCheckpoint(c);
      this.lander.notice('recovered', `${this.shardId}: ${found} objects published after the last checkpoint found; continuing after ${c.lastSequence}`);
    }
  }

  private report(state: ShardProgress['state']): void {
    this.lander.setProgress({ shard: this.shardId, state, lagMs: this.lagMs, landed: this.checkpoint.lastSequence });
  }
}

const NEWLINE = Buffer.from('\n');

function isAbort(error: unknown): boolean {
  return (error as { name?: unknown })?.name === 'AbortError';
}


function shuffle<T>(items: T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
