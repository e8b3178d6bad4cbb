import type { AwsOptions } from '../aws/clients.ts';
import { UserError } from '../errors.ts';
import type { Sink } from '../stream/sink.ts';

/** Where the streamer's accepted records go (`stream --sink`). */
export const SINK_KINDS = ['lake', 'kinesis', 'firehose'] as const;
export type SinkKind = (typeof SINK_KINDS)[number];

export interface SinkTargets {
  /** The Kinesis stream (`--kinesis-stream`, config aws.kinesisStream). */
  kinesisStream: string;
  /** The Firehose delivery stream (`--delivery-stream`). */
  deliveryStream?: string;
}

/**
 * (This module is loaded by the command line to parse options: it loads the SDK only when a sink is opened.)
 *
 * The sink a `--sink` choice names, with its AWS client from the one factory; undefined for the
 * lake (the streamer's default sink). Remote sinks make one attempt per call and retry on their
 * own terms: an SDK retry of a call whose answer was lost would store its records twice.
 */
export async function openRemoteSink(kind: SinkKind, targets: SinkTargets, aws: AwsOptions): Promise<Sink | undefined> {
  switch (kind) {
    case 'lake':
      return undefined;
    case 'kinesis': {
      const [{ KinesisSink }, { kinesisClient }] = await Promise.all([import('./kinesis-sink.ts'), import('../aws/clients.ts')]);
      const sink = new KinesisSink({ client: kinesisClient({ ...aws, maxAttempts: 1 }), stream: targets.kinesisStream });
      await sink.check();
      return sink;
    }
    case 'firehose':
      if (!targets.deliveryStream) throw new UserError('--sink firehose needs a delivery stream', { hint: 'pass --delivery-stream NAME' });
      throw new UserError('the Firehose sink is not wired to the command line yet');
  }
}
