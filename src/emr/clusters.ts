import {
  DescribeClusterCommand,
  RunJobFlowCommand,
  TerminateJobFlowsCommand,
  paginateListClusters,
  paginateListSteps,
  type Cluster,
  type ClusterState,
  type EMRClient,
  type RunJobFlowCommandInput,
  type StepSummary,
} from '@aws-sdk/client-emr';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';
import type { JobRecord, JobRecordState, JobStep, JobStepState, StateChangeReason } from '../jobs/types.ts';
import { s3Location } from './settings.ts';

/** Tag keys of the toolkit's clusters. `pipeline`, `hour` and `steps` say what a cluster is for; `key` is the work's identity. */
export const TAG = { pipeline: 'pipeline', hour: 'hour', steps: 'steps', kind: 'openevents:kind', key: 'openevents:key', who: 'openevents:who', code: 'openevents:code' } as const;

/** Cluster states in which a cluster may still run steps. */
export const ACTIVE_STATES: ClusterState[] = ['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING', 'TERMINATING'];
const HOUR_IN_NAME = /\b\d{4}-\d{2}-\d{2}T\d{2}\b/;

/**
 * The EMR API as the toolkit uses it: submit a cluster, read the pipeline's clusters back as job
 * records (cluster state and reason, steps with FailureDetails, log links, instance hours), end
 * one, and read a step's log from LogUri. Returns data; never prints.
 */
export class EmrClusters {
  constructor(
    private readonly emr: EMRClient,
    private readonly s3: S3Client,
    /** The pipeline name: only clusters tagged pipeline=<name> are ours. */
    readonly pipeline: string,
  ) {}

  async submit(request: RunJobFlowCommandInput): Promise<string> {
    const out = await this.emr.send(new RunJobFlowCommand(request));
    if (!out.JobFlowId) throw new Error('RunJobFlow answered without a cluster id');
    return out.JobFlowId;
  }

  /** The pipeline's clusters (created in the last `days`, in `states`), newest first, as summaries. */
  async summaries(options: { states?: ClusterState[]; days?: number; limit?: number } = {}): Promise<Array<{ id: string; name: string; createdAt?: Date }>> {
    const limit = options.limit ?? 50;
    const out: Array<{ id: string; name: string; createdAt?: Date }> = [];
    const input = {
      ...(options.states ? { ClusterStates: options.states } : {}),
      ...(options.days !== undefined ? { CreatedAfter: new Date(Date.now() - options.days * 86_400_000) } : {}),
    };
    for await (const page of paginateListClusters({ client: this.emr }, input)) {
      for (const c of page.Clusters ?? []) {
        // Names start with the pipeline name (runJobFlowRequest): a cheap filter before describing.
        if (!c.Id || !c.Name?.startsWith(`${this.pipeline} `)) continue;
        out.push({ id: c.Id, name: c.Name, ...(c.Status?.Timeline?.CreationDateTime ? { createdAt: c.Status.Timeline.CreationDateTime } : {}) });
      }
      if (out.length >= limit) break;
    }
    return out.slice(0, limit);
  }

  /** A cluster as a job record (undefined when it is not one of this pipeline's). */
  async record(id: string): Promise<JobRecord | undefined> {
    const { Cluster: cluster } = await this.emr.send(new DescribeClusterCommand({ ClusterId: id }));
    if (!cluster || tagsOf(cluster)[TAG.pipeline] !== this.pipeline) return undefined;
    const steps: StepSummary[] = [];
    for await (const page of paginateListSteps({ client: this.emr }, { ClusterId: id })) steps.push(...(page.Steps ?? []));
    return clusterRecord(cluster, steps.reverse()); // ListSteps answers newest first
  }

  /** Active clusters of the pipeline whose tag `key` is this key. */
  async activeWithKey(key: string): Promise<JobRecord[]> {
    return this.active((record) => record.key === key);
  }

  /** The active cluster of the pipeline with a step that reads this file (an ETL plan), if any. */
  async activeRunning(uri: string): Promise<JobRecord | undefined> {
    return (await this.active((record) => record.steps.some((s) => s.argv.includes(uri))))[0];
  }

  /** Active clusters of the pipeline that match. */
  private async active(match: (record: JobRecord) => boolean): Promise<JobRecord[]> {
    const found: JobRecord[] = [];
    for (const summary of await this.summaries({ states: ACTIVE_STATES, limit: 500 })) {
      const record = await this.record(summary.id);
      if (record && match(record)) found.push(record);
    }
    return found;
  }

  async terminate(id: string): Promise<void> {
    await this.emr.send(new TerminateJobFlowsCommand({ JobFlowIds: [id] }));
  }

  /**
   * The last `maxBytes` of a step's stderr as EMR copies it under the cluster's LogUri, to `<cluster>/steps/<step>/stderr.gz`
   * (FailureDetails.LogFile when EMR names another file). Undefined while it is not there yet:
   * EMR uploads step logs every few minutes and when the step ends.
   */
  async stepLog(step: JobStep, maxBytes = 8192, file = 'stderr'): Promise<string | undefined> {
    const uri = file === 'stderr' && step.failure?.logFile ? step.failure.logFile : step.logs ? `${step.logs}${file}.gz` : undefined;
    if (!uri) return undefined;
    const { bucket, key } = s3Location(uri);
    let body: Uint8Array;
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      body = await out.Body!.transformToByteArray();
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
      throw error;
    }
    const text = (key.endsWith('.gz') ? gunzipSync(body) : Buffer.from(body)).toString('utf8');
    if (Buffer.byteLength(text) <= maxBytes) return text;
    const tail = text.slice(-maxBytes);
    return tail.slice(tail.indexOf('\n') + 1);
  }
}

/** An EMR cluster and its steps (in submission order) as the toolkit's job record. */
export function clusterRecord(cluster: Cluster, steps: readonly StepSummary[]): JobRecord {
  const tags = tagsOf(cluster);
  const id = cluster.Id ?? 'unknown';
  const logUri = cluster.LogUri ? (cluster.LogUri.endsWith('/') ? cluster.LogUri : `${cluster.LogUri}/`) : undefined;
  const jobSteps = steps.map((s) => stepOf(s, logUri ? `${logUri}${id}/steps/${s.Id}/` : undefined));
  const clusterState = cluster.Status?.State ?? 'STARTING';
  const reason = reasonOf(cluster.Status?.StateChangeReason);
  const timeline = cluster.Status?.Timeline;
  const state = jobState(clusterState, reason, jobSteps);
  const failed = jobSteps.find((s) => s.state === 'failed');
  const why = failed
    ? `${failed.label}: ${[failed.failure?.reason, failed.failure?.message].filter(Boolean).join(' — ') || 'failed'}`
    : state !== 'succeeded' && reason?.message
      ? `${reason.code ? `${reason.code}: ` : ''}${reason.message}`
      : undefined;
  const name = cluster.Name ?? id;
  const pipeline = tags[TAG.pipeline];
  return {
    id,
    runner: 'emr',
    kind: tags[TAG.kind] ?? 'emr',
    label: pipeline && name.startsWith(`${pipeline} `) ? `emr ${name.slice(pipeline.length + 1)}` : name,
    state,
    steps: jobSteps,
    who: tags[TAG.who] ?? 'unknown',
    createdAt: (timeline?.CreationDateTime ?? new Date(0)).toISOString(),
    ...(timeline?.ReadyDateTime ? { startedAt: timeline.ReadyDateTime.toISOString() } : {}),
    ...(timeline?.EndDateTime && !isActiveState(clusterState) ? { endedAt: timeline.EndDateTime.toISOString() } : {}),
    ...(why ? { reason: why } : {}),
    ...(tags[TAG.key] ? { key: tags[TAG.key] } : {}),
    cluster: {
      id,
      state: clusterState,
      ...(reason ? { stateChangeReason: reason } : {}),
      ...(logUri ? { logUri } : {}),
      ...(cluster.ReleaseLabel ? { releaseLabel: cluster.ReleaseLabel } : {}),
      ...(cluster.NormalizedInstanceHours !== undefined ? { normalizedInstanceHours: cluster.NormalizedInstanceHours } : {}),
      tags,
    },
  };
}

function stepOf(step: StepSummary, logs: string | undefined): JobStep {
  const label = step.Name ?? step.Id ?? 'step';
  const hour = HOUR_IN_NAME.exec(label)?.[0];
  const native = step.Status?.State ?? 'PENDING';
  const reason = reasonOf(step.Status?.StateChangeReason);
  const f = step.Status?.FailureDetails;
  const failure = f && (f.Reason || f.Message || f.LogFile) ? { ...(f.Reason ? { reason: f.Reason } : {}), ...(f.Message ? { message: f.Message } : {}), ...(f.LogFile ? { logFile: f.LogFile } : {}) } : undefined;
  const t = step.Status?.Timeline;
  return {
    label,
    argv: step.Config?.Args ?? [],
    ...(hour ? { hour } : {}),
    state: STEP_STATES[native] ?? 'pending',
    ...(step.Id ? { stepId: step.Id } : {}),
    nativeState: native,
    ...(reason ? { stateChangeReason: reason } : {}),
    ...(failure ? { failure } : {}),
    ...(logs ? { logs } : {}),
    ...(t?.StartDateTime ? { startedAt: t.StartDateTime.toISOString() } : {}),
    ...(t?.EndDateTime ? { endedAt: t.EndDateTime.toISOString() } : {}),
  };
}

const STEP_STATES: Record<string, JobStepState> = {
  PENDING: 'pending',
  CANCEL_PENDING: 'running',
  RUNNING: 'running',
  COMPLETED: 'succeeded',
  CANCELLED: 'stopped',
  FAILED: 'failed',
  INTERRUPTED: 'stopped',
};

function jobState(cluster: string, reason: StateChangeReason | undefined, steps: readonly JobStep[]): JobRecordState {
  switch (cluster) {
    case 'STARTING':
    case 'BOOTSTRAPPING':
      return 'pending';
    case 'RUNNING':
    case 'WAITING':
    case 'TERMINATING':
      return 'running';
    case 'TERMINATED_WITH_ERRORS':
      return 'failed';
    default:
      if (steps.some((s) => s.state === 'failed')) return 'failed';
      if (reason?.code === 'ALL_STEPS_COMPLETED' || (steps.length > 0 && steps.every((s) => s.state === 'succeeded'))) return 'succeeded';
      return 'stopped'; // ended by a user, or idle before its steps ran
  }
}

function isActiveState(state: string): boolean {
  return (ACTIVE_STATES as string[]).includes(state);
}

function reasonOf(r: { Code?: string; Message?: string } | undefined): StateChangeReason | undefined {
  if (!r || (!r.Code && !r.Message)) return undefined;
  return { ...(r.Code ? { code: r.Code } : {}), ...(r.Message ? { message: r.Message } : {}) };
}

function tagsOf(cluster: Cluster): Record<string, string> {
  return Object.fromEntries((cluster.Tags ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? '']));
}
