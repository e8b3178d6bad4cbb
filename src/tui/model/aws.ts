import { ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { EmrSettings } from '../../emr/settings.ts';
import { JobRunningError, type JobRunner, type JobSpec } from '../../jobs/runner.ts';
import type { HourId } from '../../lake/layout.ts';
import type { ActionResult, PipelineActions } from './sources.ts';
import type { StreamView } from './types.ts';

/**
 * The monitor's aws parts: what the Kinesis API says about the stream, the streamer when it runs
 * on EC2, and the actions that submit EMR runs. The composition root (run-monitor.ts) plugs them
 * into the same sources and actions as the local profile.
 */

/** The stream's shards: open ones (no ending sequence number) and closed ones (left by resharding). */
export async function kinesisShards(client: KinesisClient, stream: string): Promise<NonNullable<StreamView['kinesis']>> {
  let open = 0;
  let closed = 0;
  let token: string | undefined;
  do {
    // With a NextToken, ListShards takes no stream name.
    const out = await client.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: stream }));
    for (const shard of out.Shards ?? []) {
      if (shard.SequenceNumberRange?.EndingSequenceNumber === undefined) open += 1;
      else closed += 1;
    }
    token = out.NextToken;
  } while (token);
  return { stream, open, closed };
}

/** The streamer where it runs on a machine of its own (the EC2 streamer): its state, start and stop. */
export interface StreamerHost {
  /** The instance and its state; undefined when there is none. */
  find(): Promise<{ id: string; state: string } | undefined>;
  start(): Promise<ActionResult>;
  stop(): Promise<ActionResult>;
}

/** What the EC2 streamer service (src/ec2/streamer.ts, `Ec2Streamer`) offers, as far as the monitor uses it. */
export interface Ec2StreamerService {
  find(): Promise<Array<{ id: string; state: string }>>;
  launch(options?: { wait?: boolean }): Promise<{ action: string; instance?: { id: string; state: string } }>;
  start(options?: { wait?: boolean }): Promise<{ instance: { id: string }; changed: boolean; state: string }>;
  stop(options?: { wait?: boolean }): Promise<{ instance: { id: string }; changed: boolean; state: string }>;
}

/**
 * The EC2 streamer as the `s` key drives it: start a stopped instance, launch one when there is
 * none (never a second: the service finds it by tag), stop a running one. Returns once EC2 took
 * the request; the Stream pane shows the instance's state as it changes.
 */
export function ec2StreamerHost(service: Ec2StreamerService): StreamerHost {
  return {
    async find() {
      const [instance] = await service.find();
      return instance ? { id: instance.id, state: instance.state } : undefined;
    },
    async start() {
      const [instance] = await service.find();
      if (!instance) {
        const launched = await service.launch({ wait: false });
        const id = launched.instance?.id ?? '?';
        return launched.action === 'launched'
          ? { ok: true, message: `launched the EC2 streamer ${id}`, jobId: id }
          : { ok: false, message: `the EC2 streamer ${id} already exists (${launched.instance?.state ?? 'unknown state'})` };
      }
      const result = await service.start({ wait: false });
      return result.changed
        ? { ok: true, message: `starting the EC2 streamer ${result.instance.id} (${result.state})`, jobId: result.instance.id }
        : { ok: false, message: `the EC2 streamer ${result.instance.id} is already ${result.state}` };
    },
    async stop() {
      const [instance] = await service.find();
      if (!instance) return { ok: false, message: 'there is no EC2 streamer to stop' };
      const result = await service.stop({ wait: false });
      return result.changed
        ? { ok: true, message: `stopping the EC2 streamer ${result.instance.id} (${result.state})`, jobId: result.instance.id }
        : { ok: false, message: `the EC2 streamer ${result.instance.id} is already ${result.state}` };
    },
  };
}

export interface AwsActionsOptions {
  /** The profile's local actions: training and publishing run here, against the S3 lake. */
  local: PipelineActions;
  /** The local job runner, for a rerun that waits on EMR and then rebuilds the report. */
  localRunner: JobRunner;
  /** The EMR job runner (its clusters are in the Jobs pane; the ETL actions reach EMR through the EMR engine). */
  emr: JobRunner;
  settings: EmrSettings;
  /** The EC2 streamer; without one, the streamer is a local job as on the local profile. */
  streamer?: StreamerHost;
}

/**
 * The one-key actions on the aws profile: `e` and `b` are local jobs running the ETL on the EMR
 * engine (`etl --engine emr`: one cluster for the batches, its results committed; the job key
 * refuses a second run of the same work), `r` is a local job that runs the
 * hour on EMR, waits for it and rebuilds the report, `s` starts or stops the EC2 streamer, and
 * `m` / `p` train and publish from here (EMR has no ML or report stage yet).
 */
export function awsActions(options: AwsActionsOptions): PipelineActions {
  const { local, localRunner, settings, streamer } = options;
  // ETL on EMR goes through the EMR engine (`etl --engine emr`), a local job that starts the cluster, waits and commits its results.
  const submit = async (spec: JobSpec, what: string): Promise<ActionResult> => {
    try {
      const job = await localRunner.start(spec);
      return { ok: true, message: `${what} started on EMR (job ${job.id})`, jobId: job.id };
    } catch (error) {
      if (error instanceof JobRunningError) return { ok: false, message: `${what} already runs (job ${error.job.id}, ${error.job.state})` };
      throw error;
    }
  };
  const etl = (label: string, key: string, args: string[], hour?: HourId): JobSpec => ({
    kind: 'etl',
    label,
    key,
    steps: [{ label, args: ['etl', '--engine', 'emr', ...args, '--lake', settings.lake], ...(hour ? { hour } : {}) }],
  });
  return {
    startStreamer: () => (streamer ? streamer.start() : local.startStreamer()),
    stopStreamer: () => (streamer ? streamer.stop() : local.stopStreamer()),
    runEtl: (hour) => submit(etl(`emr etl ${hour}`, `etl/${hour}`, ['--hour', hour], hour), `ETL for ${hour}`),
    trainModel: () => local.trainModel(),
    publishReport: () => local.publishReport(),
    async rerunHour(hour) {
      const job = await localRunner.start({
        kind: 'rerun',
        label: `rerun ${hour} on EMR`,
        key: `rerun/${hour}`,
        steps: [
          { label: `emr etl ${hour}`, args: ['emr', 'run', '--hour', hour, '--wait', '--lake', settings.lake], hour },
          { label: 'report build', args: ['report', 'build', '--lake', settings.lake] },
        ],
      });
      return { ok: true, message: `rerun of ${hour} started: EMR, then the report (job ${job.id})`, jobId: job.id };
    },
    async backfill(hours) {
      if (hours.length === 0) return { ok: false, message: 'no failed or late hours to backfill' };
      // The pending hours (never done, failed, or with newer raw objects) are the failed and late ones: one cluster for all.
      return submit(etl('emr etl pending hours', 'etl/pending', []), `backfill of ${hours.length} hour(s)`);
    },
  };
}
