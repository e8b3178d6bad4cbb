/**
 * The streamer's sink: where accepted records go. The streamer reads, frames, validates,
 * deduplicates and numbers records (sequence numbers, contiguous from 1 per writer); a sink
 * stores them — the lake sink (raw files in the lake), later Kinesis and Firehose sinks — and
 * says how far they are durable. The streamer's checkpoint follows that and nothing else, for
 * every sink. Quarantine, checkpoints and the writer's lease stay in the lake whatever the sink.
 *
 * The contract, shaped for a remote sink as much as for the lake:
 * - `write()` takes a batch and resolves once the sink has room for more (bounded in-flight
 *   work: backpressure reaches the reader, then the source through TCP), not once it is durable.
 * - `durableThrough()` is the highest sequence number s such that every record ≤ s is durable
 *   or was handed back by `takeRejected()`; it only grows, and may trail `write()` by as much as
 *   the sink keeps in flight (a raw file being written, PutRecords batches awaiting their answer).
 * - A record the sink cannot take (larger than its limit, refused by the service for good) comes
 *   back through `takeRejected()` with the reason, before `durableThrough()` passes it; the
 *   streamer quarantines it.
 * - `flush()` makes everything written durable (or rejected); `close()` flushes and releases.
 *
 * This file owns the types the adapters share; an adapter imports this file and lower layers
 * (lake, aws), never the streamer that drives it.
 */
import type { HourId } from '../lake/layout.ts';

/** Accepted records handed to a sink in one call: contiguous sequence numbers, one arrival hour. */
export interface SinkBatch {
  /** Sequence numbers of the first and last record (last − first + 1 records). */
  first: number;
  last: number;
  /** The records byte-for-byte as received, each followed by "\n". Valid until `release()`. */
  data: Buffer;
  /** End offset in `data` of each record, its "\n" included: record first+i is data[ends[i−1] ?? 0, ends[i]). */
  ends: Uint32Array;
  /** Each record's event id (a remote sink's partition key keeps one event's versions in order). */
  ids: readonly string[];
  /** When the first record arrived (ms since the epoch); every record of a batch arrived in the same UTC hour. */
  arrivedAtMs: number;
  /** The arrival hour of the batch ('YYYY-MM-DDTHH', UTC). */
  hour: HourId;
  /** Gives the batch's memory back to the streamer; call it (once) when `data`, `ends` and `ids` are no longer needed. */
  release: () => void;
}

/** A record the sink will not store, with why (the streamer quarantines it). */
export interface SinkRejection {
  seq: number;
  reason: string;
  /** The record's bytes, without its "\n". */
  record: Buffer;
}

/** Progress lines a sink reports through its context (the streamer forwards them as notices). */
export type SinkNoticeKind = 'file' | 'hour-closed' | 'recovered';

/** What the streamer gives a sink when it opens it. */
export interface SinkContext {
  /** The writer id: names objects, keys leases and partition keys. */
  writer: string;
  /** Records ≤ this are durable according to the checkpoint (0 before the first one). */
  checkpointedThrough: number;
  /** What `state()` returned when that checkpoint was written; undefined without a checkpoint. */
  state: unknown;
  /** Must be awaited before anything becomes visible (a file published, a batch put): it throws when this writer's lease is lost, so a writer that was taken over publishes nothing more. */
  beforePublish: () => Promise<void>;
  notice: (kind: SinkNoticeKind, message: string) => void;
  log: (level: 'info' | 'warn', message: string, data?: Record<string, unknown>) => void;
  now: () => number;
}

/** Records a sink finds durable beyond the checkpoint when it opens (published just before a crash). */
export interface SinkRecovery {
  /** The highest sequence number durable, ≥ the checkpoint's. */
  durableThrough: number;
  /** The (id, mtime) of each recovered record, so the streamer does not store it twice. */
  recovered: Array<{ id: string; mtime: number }>;
}

export interface Sink {
  /** 'lake', 'kinesis', 'firehose'. */
  readonly kind: string;
  /** Where records go (a lake URL, a stream name), for progress lines; never holds credentials. */
  readonly target: string;
  /** Prepares the sink and recovers what a crash left; called once, before the first write. */
  open(context: SinkContext): Promise<SinkRecovery>;
  /** Takes a batch; resolves when the sink has room for more. The batch's memory is the sink's until it calls `release()`. */
  write(batch: SinkBatch): Promise<void>;
  /** Every record ≤ this is durable or was handed back by takeRejected(). */
  durableThrough(): number;
  /** Records rejected since the last call, in sequence order. */
  takeRejected(): SinkRejection[];
  /** Time-driven work (rotation by age and hour, closing hours, retries); called at least once a second. */
  tick(nowMs: number): Promise<void>;
  /** Makes everything written so far durable or rejected. */
  flush(): Promise<void>;
  /** The sink's own state for the checkpoint (JSON), describing what is durable through durableThrough(). */
  state(): unknown;
  /** Flushes and releases resources (a clean stop). */
  close(): Promise<void>;
  /** Drops what is not yet durable and releases resources, publishing nothing (the writer's lease was lost, or a fatal error). */
  abort(): Promise<void>;
}
