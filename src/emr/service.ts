import type { Config } from '../config/schema.ts';
import { EMRClient } from '@aws-sdk/client-emr';
import { awsClient, s3Client, type AwsOptions } from '../aws/clients.ts';
import { EmrJobRunner } from '../jobs/emr.ts';
import type { JobRecord } from '../jobs/types.ts';
import { acquireLease, LeaseHeldError } from '../lake/lease.ts';
import { openLake } from '../lake/open.ts';
import { UserError } from '../errors.ts';
import { emrSettings, type EmrSettings } from './settings.ts';
import type { EmrTraining } from '../ml/service.ts';

export interface EmrServiceOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  /** Overrides of the config's aws.emr (a command's --spot). */
  settings?: Partial<EmrSettings>;
}

/**
 * The EMR job runner of a config: EMR and S3 clients from the one client factory, the EMR
 * settings resolved against the lake, and find-then-submit of a key held under a lease in the
 * lake (`_state/leases/emr/…`), so two `emr run`s at once start one cluster.
 */
export async function createEmrRunner(config: Config, options: EmrServiceOptions = {}): Promise<{ runner: EmrJobRunner; settings: EmrSettings }> {
  const settings = { ...emrSettings(config), ...options.settings };
  const aws: AwsOptions = { ...(config.aws.region ? { region: config.aws.region } : {}), ...(config.aws.endpointUrl ? { endpointUrl: config.aws.endpointUrl } : {}), env: options.env ?? process.env };
  const now = options.now ?? Date.now;
  const store = await openLake(config.lake, options.cwd);
  const runner = new EmrJobRunner({
    emr: awsClient('emr', EMRClient, aws),
    s3: s3Client(aws),
    settings,
    now,
    exclusive: async (name, fn) => {
      const deadline = now() + 120_000;
      for (;;) {
        try {
          const lease = await acquireLease(store, name, { ttlMs: 60_000, now });
          try {
            return await fn();
          } finally {
            await lease.release();
          }
        } catch (error) {
          // Another process is submitting the same work: once it is done, the lookup finds its cluster.
          if (!(error instanceof LeaseHeldError) || now() > deadline) throw error;
          await new Promise((r) => setTimeout(r, 1_000));
        }
      }
    },
  });
  return { runner, settings };
}

export interface ClusterStatus {
  job: JobRecord;
  /** The tail of the failed step's stderr from LogUri ('' while EMR has not copied it yet). */
  failedStepLog?: string;
}

/** A cluster's status; without an id, the pipeline's newest cluster. */
export async function clusterStatus(runner: EmrJobRunner, id?: string, logBytes = 4096): Promise<ClusterStatus> {
  const job = id ? await runner.get(id) : (await runner.list(1))[0];
  if (!job) {
    throw new UserError(id ? `no cluster ${id} of this pipeline` : 'no clusters of this pipeline in the last 14 days', {
      hint: id ? 'list them with `openevents emr list`' : 'start one with `openevents emr run --hour <hour>`',
    });
  }
  if (!job.steps.some((s) => s.state === 'failed')) return { job };
  return { job, failedStepLog: await runner.logTail(job.id, logBytes) };
}

/**
 * The emr engine of `ml train`: each training step as a cluster of its own (keyed by its run),
 * polled like `emr run --wait` until it ends. `onStart` hears of the cluster, `onChange` of each
 * change of its state.
 */
export function emrTraining(runner: EmrJobRunner, options: { onStart?: (job: JobRecord) => void; onChange?: (job: JobRecord) => void; signal?: AbortSignal } = {}): EmrTraining {
  return {
    run: async (step, runId) => {
      const job = await runner.start({ kind: 'ml', label: step.label, key: `ml/${runId}`, steps: [step] });
      options.onStart?.(job);
      return runner.wait(job.id, { ...(options.onChange ? { onChange: options.onChange } : {}), ...(options.signal ? { signal: options.signal } : {}) });
    },
  };
}
