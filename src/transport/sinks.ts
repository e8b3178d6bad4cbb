import type { AwsOptions } from '../aws/clients.ts';
import { UserError } from '../errors.ts';
import type { Sink } from '../stream/sink.ts';

/** Where the streamer's accepted records go (`stream --sink`). */
export const SINK_KINDS = ['lake', 'kinesis', 'firehose'] as const;
export type SinkKind = (typeof SINK_KINDS)[number];

export interface SinkTargets {
  /** The Kinesis stream (`--kinesis-stream`, config aws.kinesis.stream). */
  kinesisStream: string;
  /** The Firehose delivery stream (`--delivery-stream`, config aws.firehose.deliveryStream); '' when not configured. */
  deliveryStream: string;
}

/** A remote sink and the client it owns (destroy it once the streamer has closed the sink). */
export interface OpenedSink {
  sink: Sink;
  destroy(): void;
}

/**
 * (This module is loaded by the command line to parse options: it loads the SDK only when a sink is opened.)
 *
 * The sink a `--sink` choice names, checked (the target exists, the credentials work: a
 * UserError naming it otherwise), with its own client from the one factory; undefined for the
 * lake (the streamer's default sink). Remote sinks make one SDK attempt per call and retry on
 * their own terms: an SDK retry of a call whose answer was lost would store its records twice.
 */
export async function openRemoteSink(kind: SinkKind, targets: SinkTargets, aws: AwsOptions): Promise<OpenedSink | undefined> {
  const options = { ...aws, maxAttempts: 1 };
  const opened = async (sink: Sink & { check(): Promise<void> }, destroy: () => void): Promise<OpenedSink> => {
    try {
      await sink.check();
    } catch (error) {
      destroy();
      throw error;
    }
    return { sink, destroy };
  };
  switch (kind) {
    case 'lake':
      return undefined;
    case 'kinesis': {
      const [{ KinesisSink }, { KinesisClient }, { awsClient }] = await Promise.all([
        import('./kinesis-sink.ts'),
        import('@aws-sdk/client-kinesis'),
        import('../aws/clients.ts'),
      ]);
      const client = awsClient('kinesis', KinesisClient, options);
      return opened(new KinesisSink({ client, stream: targets.kinesisStream }), () => client.destroy());
    }
    case 'firehose': {
      if (!targets.deliveryStream) {
        throw new UserError('--sink firehose needs a delivery stream', { hint: 'pass --delivery-stream NAME, or set aws.firehose.deliveryStream in the config' });
      }
      const [{ FirehoseSink }, { FirehoseClient }, { awsClient }] = await Promise.all([
        import('./firehose-sink.ts'),
        import('@aws-sdk/client-firehose'),
        import('../aws/clients.ts'),
      ]);
      const client = awsClient('firehose', FirehoseClient, options);
      return opened(new FirehoseSink({ client, deliveryStream: targets.deliveryStream }), () => client.destroy());
    }
  }
}
