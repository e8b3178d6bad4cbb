import { DescribeDeliveryStreamCommand, PutRecordBatchCommand, type FirehoseClient } from '@aws-sdk/client-firehose';
import { UserError } from '../errors.ts';
import type { SinkContext, SinkRecovery } from '../stream/sink.ts';
import { classifyFailure, describeFailure } from './retry.ts';
import { callLimits, RemoteSink, type OutboundRecord, type RemoteSinkOptions } from './remote-sink.ts';

/** PutRecordBatch: at most 500 records and 4 MiB per call; a record at most 1,000 KiB. */
export const PUT_RECORD_BATCH_MAX_RECORDS = 500;
export const PUT_RECORD_BATCH_MAX_BYTES = 4 * 1024 * 1024;
export const FIREHOSE_RECORD_MAX_BYTES = 1000 * 1024;

export interface FirehoseSinkOptions extends RemoteSinkOptions {
  client: FirehoseClient;
  deliveryStream: string;
}

/**
 * The Firehose sink (`stream --sink firehose`), the original system's path: records, each
 * followed by "\n", go to a Kinesis Data Firehose delivery stream in PutRecordBatch calls of up
 * to 500 records and 4 MiB, up to `maxInFlight` at once; entries answered with an ErrorCode are
 * sent again, exactly those, after a backoff with jitter. Firehose writes them to S3 itself, as
 * `<prefix>YYYY/MM/DD/HH/<stream>-<version>-<time>-<id>` objects, a layout the lake reads as it
 * is (point the delivery stream's prefix at `<lake>/raw/`).
 *
 * A record is durable once Firehose acknowledged it (Firehose then owns delivery). Firehose
 * cannot be read back, so where a call's answer is lost (a dropped connection, a timeout, a 5xx)
 * its records are sent again and may be delivered twice, as Firehose itself may deliver twice:
 * the ETL keeps one row per (event, mtime) version.
 */
export class FirehoseSink extends RemoteSink {
  readonly kind = 'firehose';
  readonly target: string;
  private readonly client: FirehoseClient;
  private readonly deliveryStream: string;

  constructor(options: FirehoseSinkOptions) {
    super(callLimits(PUT_RECORD_BATCH_MAX_RECORDS, PUT_RECORD_BATCH_MAX_BYTES, options), false, options.random);
    this.client = options.client;
    this.deliveryStream = options.deliveryStream;
    this.target = `Firehose delivery stream "${options.deliveryStream}"`;
  }

  protected async describe(): Promise<void> {
    const out = await this.client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: this.deliveryStream }));
    const status = out.DeliveryStreamDescription?.DeliveryStreamStatus;
    if (status && status !== 'ACTIVE') {
      throw new UserError(`${this.target} is ${status}, not ACTIVE`, { hint: 'wait until it is ACTIVE (openevents infra status), or choose another with --delivery-stream' });
    }
  }

  protected async prepare(context: SinkContext): Promise<SinkRecovery> {
    // Nothing to recover: Firehose cannot be read back (see the class comment).
    return { durableThrough: context.checkpointedThrough, recovered: [] };
  }

  protected encode(_record: Buffer, withNewline: Buffer): { data: Buffer; key: string; bytes: number } | { reason: string } {
    // Firehose concatenates records as they are: the newline keeps one event per line.
    if (withNewline.length > FIREHOSE_RECORD_MAX_BYTES) {
      return { reason: `oversized record: ${withNewline.length} bytes with its newline > the ${FIREHOSE_RECORD_MAX_BYTES}-byte record limit of Firehose` };
    }
    return { data: withNewline, key: '', bytes: withNewline.length };
  }

  protected async put(records: OutboundRecord[]): Promise<void> {
    let out;
    try {
      out = await this.client.send(new PutRecordBatchCommand({ DeliveryStreamName: this.deliveryStream, Records: records.map((r) => ({ Data: r.data })) }));
    } catch (error) {
      const kind = classifyFailure(error);
      if (kind === 'fatal') throw error;
      if (kind === 'ambiguous') {
        this.stats_.ambiguous++;
        this.ctx.log('warn', `firehose: the answer to a PutRecordBatch call of ${records.length} records was lost (${describeFailure(error)}); sending them again (Firehose may deliver them twice)`);
      }
      return this.retry(records, kind === 'throttled', describeFailure(error));
    }
    const answers = out.RequestResponses ?? [];
    const again: OutboundRecord[] = [];
    let why = '';
    records.forEach((r, i) => {
      const a = answers[i];
      if (a && !a.ErrorCode && a.RecordId) this.acknowledge(r);
      else {
        again.push(r);
        why ||= a?.ErrorCode ? `${a.ErrorCode}: ${a.ErrorMessage ?? ''}`.trim() : 'no answer for the entry';
      }
    });
    if (again.length === 0) this.unthrottled();
    this.retry(again, again.length > 0, `${again.length} of ${records.length} entries failed (${why})`);
  }

  state(): Record<string, never> {
    return {};
  }
}
