import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient, type ShardIteratorType } from '@aws-sdk/client-kinesis';
import { backoffDelayMs } from '../stream/backoff.ts';
import { classifyFailure, describeFailure, RETRY_BACKOFF, sleep } from './retry.ts';

/**
 * Reading a Kinesis stream shard by shard: the shard list with its lineage, and a reader that
 * follows one shard from a position, within the read limits (5 GetRecords per second per shard,
 * 2 MiB/s), getting a new iterator when one expires (after 5 minutes) and backing off when
 * throttled. The lander reads with it, and the Kinesis sink to learn which of its records a
 * crash or a lost answer left in the stream.
 */

/** A shard and its lineage. */
export interface ShardInfo {
  id: string;
  /** The shards it came from (one after a split, two after a merge): read them to their end first. */
  parents: string[];
  /** A closed shard (split or merged away) takes no more records. */
  closed: boolean;
  /** Set when closed. */
  endingSequence?: string;
}

/** Where reading a shard starts. */
export type ShardStart = { after: string } | { atMs: number } | 'trim-horizon';

/** One record as read. */
export interface ShardRecord {
  /** The Kinesis sequence number (a decimal string). */
  seq: string;
  key: string;
  data: Uint8Array;
  /** ApproximateArrivalTimestamp, ms. */
  arrivedAtMs: number;
}

export interface ShardPage {
  records: ShardRecord[];
  /** How far behind the shard's tip this page is (0: caught up). */
  millisBehindLatest: number;
  /** The shard is closed and read to its end: there will be nothing more. */
  ended: boolean;
}

/** Every shard of the stream within its retention, with parents (ListShards, paged). */
export async function listShards(client: KinesisClient, stream: string): Promise<ShardInfo[]> {
  const out: ShardInfo[] = [];
  let token: string | undefined;
  do {
    // ListShards takes the stream name or a NextToken, never both.
    const page = await client.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: stream }));
    for (const s of page.Shards ?? []) {
      if (!s.ShardId) continue;
      const ending = s.SequenceNumberRange?.EndingSequenceNumber;
      out.push({
        id: s.ShardId,
        parents: [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => typeof p === 'string' && p !== ''),
        closed: ending !== undefined && ending !== null,
        ...(ending ? { endingSequence: ending } : {}),
      });
    }
    token = page.NextToken;
  } while (token);
  return out;
}

/** Compares two sequence numbers (decimal strings of any length). */
export function compareSequence(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export interface ShardReaderOptions {
  /** Records per GetRecords (Kinesis allows up to 10,000). */
  limit?: number;
  random?: () => number;
  now?: () => number;
  /** Told about each retry (throttled, expired iterator, a transient failure). */
  onRetry?: (what: string) => void;
  signal?: AbortSignal;
}

/** GetRecords calls per second a shard serves. */
const READS_PER_SECOND = 5;
/** Bytes per second a shard serves to reads. */
const READ_BYTES_PER_SECOND = 2 * 1024 * 1024;

/**
 * Reads one shard from a position, a page at a time. Paces its calls within the shard's read
 * limits; when an iterator expires, gets a new one after the last record read (or at the start);
 * backs off with jitter when throttled or when the service fails for a moment; throws what no
 * retry helps (no such stream, access denied).
 */
export class ShardReader {
  private iterator: string | null | undefined;
  /** The sequence number of the last record read, if any. */
  lastSequence: string | undefined;
  private nextCallAtMs = 0;
  private readonly now: () => number;

  constructor(
    private readonly client: KinesisClient,
    private readonly stream: string,
    /** The shard; replace it when a newer listing says it closed. */
    public shard: ShardInfo,
    private readonly start: ShardStart,
    private readonly options: ShardReaderOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    if (typeof start === 'object' && 'after' in start) this.lastSequence = start.after;
  }

  /** The next page (possibly empty). */
  async read(): Promise<ShardPage> {
    for (let attempt = 0; ; attempt++) {
      const wait = this.nextCallAtMs - this.now();
      if (wait > 0) await sleep(wait, this.options.signal);
      this.options.signal?.throwIfAborted();
      try {
        if (this.iterator === null) return { records: [], millisBehindLatest: 0, ended: true };
        this.iterator ??= await this.newIterator();
        const out = await this.client.send(new GetRecordsCommand({ ShardIterator: this.iterator, Limit: this.options.limit ?? 10_000 }));
        const records: ShardRecord[] = [];
        let bytes = 0;
        for (const r of out.Records ?? []) {
          if (!r.SequenceNumber) continue;
          const data = r.Data ?? new Uint8Array();
          bytes += data.length;
          records.push({ seq: r.SequenceNumber, key: r.PartitionKey ?? '', data, arrivedAtMs: r.ApproximateArrivalTimestamp?.getTime() ?? this.now() });
        }
        if (records.length > 0) this.lastSequence = records[records.length - 1]!.seq;
        this.iterator = out.NextShardIterator ?? null;
        this.nextCallAtMs = this.now() + Math.max(1000 / READS_PER_SECOND, (bytes / READ_BYTES_PER_SECOND) * 1000);
        const millisBehindLatest = out.MillisBehindLatest ?? 0;
        return { records, millisBehindLatest, ended: this.iterator === null || this.readToEnd(records.length, millisBehindLatest) };
      } catch (error) {
        if ((error as { name?: unknown })?.name === 'ExpiredIteratorException') {
          // Iterators live 5 minutes: a new one from where reading got to.
          this.iterator = undefined;
          this.options.onRetry?.(`the iterator of ${this.shard.id} expired; continuing after ${this.lastSequence ?? 'the start'}`);
          continue;
        }
        const kind = classifyFailure(error);
        if (kind === 'fatal') throw error;
        const delay = backoffDelayMs(attempt, RETRY_BACKOFF, this.options.random);
        this.options.onRetry?.(`${kind === 'throttled' ? 'read throttled' : 'read failed'} on ${this.shard.id} (${describeFailure(error)}); retrying in ${delay} ms`);
        this.nextCallAtMs = this.now() + delay;
      }
    }
  }

  /**
   * A closed shard whose end is reached. Kinesis says so with no next iterator; emulators that
   * keep giving iterators (moto) are caught by the shard's ending sequence number.
   */
  private readToEnd(records: number, millisBehindLatest: number): boolean {
    const ending = this.shard.endingSequence;
    if (!this.shard.closed || ending === undefined || records > 0 || millisBehindLatest > 0) return false;
    return compareSequence(this.lastSequence ?? '0', ending) >= 0;
  }

  private async newIterator(): Promise<string> {
    const from: { type: ShardIteratorType; seq?: string; atMs?: number } = this.lastSequence
      ? { type: 'AFTER_SEQUENCE_NUMBER', seq: this.lastSequence }
      : typeof this.start === 'object' && 'atMs' in this.start
        ? { type: 'AT_TIMESTAMP', atMs: this.start.atMs }
        : { type: 'TRIM_HORIZON' };
    const out = await this.client.send(
      new GetShardIteratorCommand({
        StreamName: this.stream,
        ShardId: this.shard.id,
        ShardIteratorType: from.type,
        ...(from.seq ? { StartingSequenceNumber: from.seq } : {}),
        ...(from.atMs !== undefined ? { Timestamp: new Date(from.atMs) } : {}),
      }),
    );
    if (!out.ShardIterator) throw new Error(`Kinesis gave no iterator for ${this.shard.id} of stream "${this.stream}"`);
    return out.ShardIterator;
  }
}

/**
 * Reads every given shard from its start until it is caught up (nothing newer than `untilMs`
 * arrived, or the shard's tip is reached) and hands each record to `onRecord`. For finding
 * records a producer may have left in the stream; shards are read one after another.
 */
export async function scanShards(
  client: KinesisClient,
  stream: string,
  starts: Array<{ shard: ShardInfo; start: ShardStart }>,
  onRecord: (shard: string, record: ShardRecord) => void,
  options: ShardReaderOptions & { untilMs: number },
): Promise<void> {
  for (const { shard, start } of starts) {
    const reader = new ShardReader(client, stream, shard, start, options);
    for (;;) {
      const page = await reader.read();
      let past = false;
      for (const r of page.records) {
        if (r.arrivedAtMs > options.untilMs) past = true;
        onRecord(shard.id, r);
      }
      if (page.ended || past || (page.records.length === 0 && page.millisBehindLatest === 0)) break;
    }
  }
}

