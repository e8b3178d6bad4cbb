import { createHash } from 'node:crypto';
import { DescribeStreamSummaryCommand, PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { UserError } from '../errors.ts';
import { validateLine } from '../stream/contract.ts';
import type { SinkContext, SinkRecovery } from '../stream/sink.ts';
import { backoffDelayMs } from '../stream/backoff.ts';
import { classifyFailure, describeFailure, retrying, RETRY_BACKOFF, sleep } from './retry.ts';
import { compareSequence, listShards, scanShards, type ShardInfo, type ShardStart } from './kinesis-read.ts';
import { callLimits, RemoteSink, type OutboundRecord, type RemoteSinkOptions } from './remote-sink.ts';

/** PutRecords: at most 500 records and 5 MiB (data and partition keys) per call. */
export const PUT_RECORDS_MAX_RECORDS = 500;
export const PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024;
/** A record's limit (data and partition key) unless the stream says otherwise (MaxRecordSizeInKiB). */
export const KINESIS_RECORD_MAX_BYTES = 1024 * 1024;
/** Partition keys are at most 256 Unicode characters. */
const MAX_PARTITION_KEY_CHARS = 256;
/**
 * How far before a call's send time to look for its records on a shard whose position was not
 * known then: the toolkit's clock and Kinesis' may differ (SigV4 refuses more than 5 minutes;
 * NTP keeps them within a second), and ApproximateArrivalTimestamp is the service's.
 */
const CLOCK_MARGIN_MS = 60_000;
/** A call whose answer was lost is looked for after this long (the service finishes it meanwhile). */
const VERIFY_DELAY_MS = 500;

export interface KinesisSinkOptions extends RemoteSinkOptions {
  client: KinesisClient;
  stream: string;
}

/**
 * The Kinesis sink's part of the checkpoint: where, per shard, the records beyond the durable
 * mark can be — every one of them that reached the stream has a sequence number after
 * `positions[shard]`, or arrived after `sinceMs` on a shard without a position.
 */
export interface KinesisSinkState {
  positions: Record<string, string>;
  sinceMs: number;
}

/** One PutRecords call: the shard positions known when it was sent. */
interface PutCall {
  sentAtMs: number;
  tips: ReadonlyMap<string, string>;
}

type KinesisRecord = OutboundRecord & { call?: PutCall };

/**
 * The Kinesis sink (`stream --sink kinesis`): records go to a Kinesis data stream in PutRecords
 * calls of up to 500 records and 5 MiB, up to `maxInFlight` at once, partitioned by event id, so
 * one event's versions land on one shard — and in order: a record waits while an earlier record
 * of its event is in flight. Entries answered with an ErrorCode are sent again, exactly those,
 * after a backoff with jitter when throttled. A record is durable once Kinesis acknowledged it;
 * records larger than the stream's record limit (with their partition key) go back to the
 * streamer, which quarantines them with the reason.
 *
 * Nothing is stored twice: when a call's answer is lost (a dropped connection, a timeout, a 5xx),
 * the sink reads the shards from where they stood when the call was sent and sends again only
 * what is not there; after a crash, it reads what was put after the checkpoint and hands the
 * records' (id, mtime) to the streamer, which then does not put them again.
 */
export class KinesisSink extends RemoteSink {
  readonly kind = 'kinesis';
  readonly target: string;
  private readonly client: KinesisClient;
  private readonly stream: string;
  private recordLimit = KINESIS_RECORD_MAX_BYTES;
  /** The highest sequence number acknowledged per shard. */
  private readonly tips = new Map<string, string>();
  private shards: ShardInfo[] = [];

  constructor(options: KinesisSinkOptions) {
    super(callLimits(PUT_RECORDS_MAX_RECORDS, PUT_RECORDS_MAX_BYTES, options), true, options.random);
    this.client = options.client;
    this.stream = options.stream;
    this.target = `Kinesis stream "${options.stream}"`;
  }

  protected async describe(): Promise<void> {
    const summary = (await this.client.send(new DescribeStreamSummaryCommand({ StreamName: this.stream }))).StreamDescriptionSummary;
    if (summary?.StreamStatus === 'DELETING') throw new UserError(`${this.target} is being deleted`, { hint: 'create it again (openevents infra up) or choose another with --kinesis-stream' });
    if (summary?.MaxRecordSizeInKiB) this.recordLimit = summary.MaxRecordSizeInKiB * 1024;
    // A stream that takes records larger than 5 MiB takes calls of one such record.
    this.limits.maxBytes = Math.max(PUT_RECORDS_MAX_BYTES, this.recordLimit);
  }

  protected async prepare(context: SinkContext): Promise<SinkRecovery> {
    const saved = context.state as Partial<KinesisSinkState> | undefined;
    const nowMs = context.now();
    // Without a state (a first run, or a checkpoint of another sink), look back a while: a crash
    // before the first checkpoint leaves at most a few seconds of records.
    const sinceMs = typeof saved?.sinceMs === 'number' ? saved.sinceMs : nowMs;
    const positions = saved?.positions ?? {};
    this.shards = await retrying(() => listShards(this.client, this.stream), { random: this.random });
    const recovered: SinkRecovery['recovered'] = [];
    let found = 0;
    await scanShards(
      this.client,
      this.stream,
      this.shards.map((shard) => ({ shard, start: startOf(positions[shard.id], sinceMs) })),
      (shard, record) => {
        this.learn(shard, record.seq);
        found++;
        const v = validateLine(Buffer.from(record.data.buffer, record.data.byteOffset, record.data.byteLength), Number.MAX_SAFE_INTEGER);
        if (v.kind === 'valid') recovered.push({ id: v.id, mtime: v.mtime });
      },
      { untilMs: nowMs + CLOCK_MARGIN_MS, random: this.random, now: context.now, onRetry: (what) => context.log('warn', what) },
    );
    for (const [shard, seq] of Object.entries(positions)) this.learn(shard, seq);
    if (found > 0) context.notice('recovered', `found ${found} records in ${this.target} put after the last checkpoint; they will not be put again`);
    return { durableThrough: context.checkpointedThrough, recovered };
  }

  protected encode(record: Buffer, _withNewline: Buffer, id: string): { data: Buffer; key: string; bytes: number } | { reason: string } {
    const key = partitionKey(id);
    const bytes = record.length + Buffer.byteLength(key);
    if (bytes > this.recordLimit) {
      return { reason: `oversized record: ${bytes} bytes with its partition key > the ${this.recordLimit}-byte record limit of ${this.target}` };
    }
    return { data: record, key, bytes };
  }

  protected async put(records: KinesisRecord[]): Promise<void> {
    const call: PutCall = { sentAtMs: this.ctx.now(), tips: new Map(this.tips) };
    for (const r of records) r.call = call;
    let out;
    try {
      out = await this.client.send(new PutRecordsCommand({ StreamName: this.stream, Records: records.map((r) => ({ Data: r.data, PartitionKey: r.key })) }));
    } catch (error) {
      const kind = classifyFailure(error);
      if (kind === 'fatal') throw error;
      if (kind !== 'ambiguous') return this.retry(records, kind === 'throttled', describeFailure(error));
      this.stats_.ambiguous++;
      this.ctx.log('warn', `kinesis: the answer to a PutRecords call of ${records.length} records was lost (${describeFailure(error)}); looking for them in the stream`);
      return this.settleLost(records, call);
    }
    const answers = out.Records ?? [];
    const again: KinesisRecord[] = [];
    let throttled = false;
    let why = '';
    records.forEach((r, i) => {
      const a = answers[i];
      if (a && !a.ErrorCode && a.ShardId && a.SequenceNumber) {
        this.learn(a.ShardId, a.SequenceNumber);
        this.acknowledge(r);
      } else {
        again.push(r);
        if (a?.ErrorCode === 'ProvisionedThroughputExceededException') throttled = true;
        why ||= a?.ErrorCode ? `${a.ErrorCode}: ${a.ErrorMessage ?? ''}`.trim() : 'no answer for the entry';
      }
    });
    if (again.length === 0) this.unthrottled();
    this.retry(again, throttled || again.length > 0, `${again.length} of ${records.length} entries failed (${why})`);
  }

  state(): KinesisSinkState {
    // Positions every record beyond the durable mark lies after: the tips known when the
    // earliest of their calls went out (a shard unknown then has none: found by time instead).
    const positions = new Map(this.tips);
    let sinceMs = this.ctx.now();
    const seen = new Set<PutCall>();
    for (const r of this.pendingRecords() as KinesisRecord[]) {
      const call = r.call;
      if (!call || seen.has(call)) continue;
      seen.add(call);
      sinceMs = Math.min(sinceMs, call.sentAtMs);
      for (const [shard, seq] of positions) {
        const then = call.tips.get(shard);
        if (then === undefined) positions.delete(shard);
        else if (compareSequence(then, seq) < 0) positions.set(shard, then);
      }
    }
    return { positions: Object.fromEntries(positions), sinceMs };
  }

  /**
   * A call whose answer was lost: reads every shard from where it stood when the call was sent,
   * acknowledges the records found there (the same key and bytes) and sends the rest again.
   */
  private async settleLost(records: KinesisRecord[], call: PutCall): Promise<void> {
    await sleep(VERIFY_DELAY_MS);
    for (let attempt = 0; ; attempt++) {
      try {
        this.shards = await listShards(this.client, this.stream);
        const byKey = new Map(records.map((r) => [r.key, r]));
        await scanShards(
          this.client,
          this.stream,
          this.shards.map((shard) => ({ shard, start: startOf(call.tips.get(shard.id), call.sentAtMs) })),
          (shard, found) => {
            const r = byKey.get(found.key);
            if (!r || !r.data.equals(found.data)) return;
            this.learn(shard, found.seq);
            this.acknowledge(r);
            byKey.delete(found.key);
          },
          { untilMs: this.ctx.now() + CLOCK_MARGIN_MS, random: this.random, now: this.ctx.now },
        );
        const missing = [...byKey.values()];
        this.ctx.log('info', `kinesis: ${records.length - missing.length} of ${records.length} records of the lost call are in the stream; sending ${missing.length} again`);
        return this.retry(missing, false, 'lost answer');
      } catch (error) {
        if (classifyFailure(error) === 'fatal') throw error;
        await sleep(VERIFY_DELAY_MS + backoffDelayMs(attempt, RETRY_BACKOFF, this.random));
      }
    }
  }

  /** Keeps the highest sequence number known per shard. */
  private learn(shard: string, seq: string): void {
    const known = this.tips.get(shard);
    if (known === undefined || compareSequence(seq, known) > 0) this.tips.set(shard, seq);
  }
}

/** Where to look for records on a shard: after a known position, else from a while before `sinceMs`. */
function startOf(position: string | undefined, sinceMs: number): ShardStart {
  return position !== undefined ? { after: position } : { atMs: sinceMs - CLOCK_MARGIN_MS };
}

/** The event id, or its SHA-256 when longer than a partition key may be: one event, one key, one shard. */
export function partitionKey(id: string): string {
  return id.length <= MAX_PARTITION_KEY_CHARS ? id : createHash('sha256').update(id).digest('hex');
}
