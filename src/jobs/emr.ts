import type { EMRClient, RunJobFlowCommandInput } from '@aws-sdk/client-emr';
import type { S3Client } from '@aws-sdk/client-s3';
import { rmSync } from 'node:fs';
import { UserError } from '../errors.ts';
import { readCodeBundle, uploadCode, type CodeBundle, type UploadedCode } from '../emr/code.ts';
import { EmrClusters, TAG } from '../emr/clusters.ts';
import { runJobFlowRequest } from '../emr/request.ts';
import type { EmrSettings } from '../emr/settings.ts';
import { runsToolkit } from '../emr/toolkit.ts';
import { artifactUri, packDir, packToolkit, stageArtifact, type Artifact } from '../ec2/artifact.ts';
import { osUser } from './local.ts';
import { JobRunningError, pollUntilDone, type JobRunner, type JobSpec, type WaitOptions } from './runner.ts';
import { isActive, type JobRecord } from './types.ts';

export interface EmrJobRunnerOptions {
  emr: EMRClient;
  s3: S3Client;
  settings: EmrSettings;
  who?: string;
  now?: () => number;
  /** The code bundle to upload (default: this installation's spark/ jobs, SQL and bootstrap). */
  code?: () => Promise<CodeBundle>;
  /**
   * The toolkit's npm pack tarball, for jobs with steps that run `openevents` on the cluster
   * (default: pack this installation, once per runner).
   */
  toolkit?: () => Promise<Artifact>;
  /**
   * Runs find-then-submit of one key alone across processes (a lease in the lake), so two
   * `emr run`s at once still start one cluster. Default: no lock (one process).
   */
  exclusive?: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
  /** A listing is reused this long (the monitor refreshes every second; EMR is asked less often). Default: settings.pollSeconds. */
  cacheMs?: number;
}

/** What `start` would send, without sending it (`emr run --dry-run`). */
export interface EmrPlan {
  request: RunJobFlowCommandInput;
  code: { hash: string; uri: string; files: number; bytes: number };
  /** The toolkit tarball the cluster installs (when a step runs `openevents`). */
  toolkit?: { uri: string; sha256: string; bytes: number };
}

/**
 * Runs jobs as EMR clusters: one cluster per job, one EMR step per job step (its argv are the
 * command-runner.jar arguments, e.g. `spark-submit …`), the code uploaded once per content
 * hash. A job's id is its cluster id; its record is read back from the EMR API (ListClusters,
 * DescribeCluster, ListSteps), so every process sees the same jobs and nothing is stored here.
 */
export class EmrJobRunner implements JobRunner {
  readonly name = 'emr' as const;
  readonly clusters: EmrClusters;
  private readonly settings: EmrSettings;
  private readonly who: string;
  private readonly now: () => number;
  private readonly code: () => Promise<CodeBundle>;
  private readonly toolkit: () => Promise<Artifact>;
  private readonly exclusive: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
  private readonly cacheMs: number;
  private readonly s3: S3Client;
  /** Ended clusters never change: read once. */
  private readonly ended = new Map<string, JobRecord>();
  private listed: { atMs: number; records: Promise<JobRecord[]> } | undefined;

  constructor(options: EmrJobRunnerOptions) {
    this.settings = options.settings;
    this.s3 = options.s3;
    this.clusters = new EmrClusters(options.emr, options.s3, options.settings.name);
    this.who = options.who ?? osUser();
    this.now = options.now ?? Date.now;
    this.code = options.code ?? (() => readCodeBundle());
    this.toolkit = options.toolkit ?? once(packThisToolkit);
    this.exclusive = options.exclusive ?? ((_name, fn) => fn());
    this.cacheMs = options.cacheMs ?? options.settings.pollSeconds * 1000;
  }

  /** The RunJobFlow request of a job and the code (and toolkit) it would upload; asks AWS nothing. */
  async plan(spec: JobSpec, bundle?: CodeBundle): Promise<EmrPlan & { artifact?: Artifact }> {
    const code = bundle ?? (await this.code());
    const artifact = spec.steps.some(runsToolkit) ? await this.toolkit() : undefined;
    const toolkit = artifact ? { uri: artifactUri(`${this.settings.codeUri}toolkit/`, artifact), sha256: artifact.sha256, bytes: artifact.bytes } : undefined;
    const spot = this.settings.market === 'spot';
    if (spot && this.settings.instances !== 'fleets') {
      throw new UserError('Spot with on-demand fallback needs instance fleets', { hint: 'set aws.emr.instances to "fleets" (or run without --spot)' });
    }
    const hours = [...new Set(spec.steps.map((s) => s.hour).filter((h): h is string => h !== undefined))].sort();
    const tags: Record<string, string> = {
      [TAG.pipeline]: this.settings.name,
      [TAG.kind]: spec.kind,
      [TAG.who]: this.who,
      [TAG.code]: code.hash,
      [TAG.steps]: [...new Set(spec.steps.map((s) => s.label.split(' ')[0] ?? s.label))].join(','),
      ...(hours.length ? { [TAG.hour]: hours.length === 1 ? hours[0]! : `${hours[0]}..${hours[hours.length - 1]}` } : {}),
      ...(spec.key !== undefined ? { [TAG.key]: spec.key } : {}),
    };
    const steps = spec.steps.map((step) => {
      if (!step.argv) throw new Error(`EMR step "${step.label}" has no argv: an EMR step runs a command line on the cluster (command-runner.jar), not an openevents subcommand`);
      return { name: step.label, args: step.argv };
    });
    const request = runJobFlowRequest(this.settings, { label: spec.label, steps, tags, codeHash: code.hash, spot, ...(toolkit ? { toolkit: toolkit.uri } : {}) });
    const bytes = code.files.reduce((n, f) => n + f.body.length, 0);
    return { request, code: { hash: code.hash, uri: `${this.settings.codeUri}${code.hash}/`, files: code.files.length, bytes }, ...(toolkit && artifact ? { toolkit, artifact } : {}) };
  }

  /** Uploads the code (once per hash) and starts the cluster, unless one with the job's key is active. */
  async start(spec: JobSpec): Promise<JobRecord> {
    return (await this.submit(spec)).job;
  }

  /** `start`, also saying what happened to the code (and the toolkit, staged once per content hash). */
  async submit(spec: JobSpec): Promise<{ job: JobRecord; code: UploadedCode; toolkit?: { uri: string; uploaded: boolean } }> {
    const bundle = await this.code();
    const { request, toolkit, artifact } = await this.plan(spec, bundle);
    const run = async (): Promise<{ job: JobRecord; code: UploadedCode; toolkit?: { uri: string; uploaded: boolean } }> => {
      if (spec.key !== undefined) {
        const [same] = await this.clusters.activeWithKey(spec.key);
        if (same) throw new JobRunningError(same);
      }
      const code = await uploadCode(this.s3, this.settings.codeUri, bundle);
      const staged = toolkit && artifact ? { uri: toolkit.uri, uploaded: await stageArtifact(this.s3, toolkit.uri, artifact) } : undefined;
      const id = await this.clusters.submit(request);
      this.listed = undefined;
      const job = await this.clusters.record(id);
      if (!job) throw new Error(`cluster ${id} was started but does not carry the pipeline tag ${this.settings.name}`);
      return { job, code, ...(staged ? { toolkit: staged } : {}) };
    };
    return spec.key === undefined ? run() : this.exclusive(`emr/${this.settings.name}/${spec.key}`, run);
  }

  /** The pipeline's clusters created in the last 14 days, newest first (an older one is still found by id with `get`). */
  async list(limit = 50): Promise<JobRecord[]> {
    if (this.listed && this.now() - this.listed.atMs < this.cacheMs) return (await this.listed.records).slice(0, limit);
    const records = this.readList(limit);
    this.listed = { atMs: this.now(), records };
    records.catch(() => (this.listed = undefined));
    return records;
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const ended = this.ended.get(id);
    if (ended) return ended;
    const record = await this.clusters.record(id);
    if (record && !isActive(record)) this.ended.set(id, record);
    return record;
  }

  async running(kind: string): Promise<JobRecord | undefined> {
    return (await this.list()).find((r) => r.kind === kind && isActive(r));
  }

  /** Terminates the job's cluster (its running step is cancelled, the steps after it never run). */
  async stop(id: string): Promise<boolean> {
    const record = await this.get(id);
    if (!record || !isActive(record)) return false;
    await this.clusters.terminate(id);
    this.listed = undefined;
    return true;
  }

  wait(id: string, options: WaitOptions = {}): Promise<JobRecord> {
    return pollUntilDone(() => this.get(id), id, { pollMs: this.settings.pollSeconds * 1000, timeoutMs: 6 * 3_600_000, ...options }, this.now);
  }

  /** The stderr tail of the failed step (else the last step that started), read from LogUri. */
  async logTail(id: string, maxBytes = 8192): Promise<string> {
    const record = await this.get(id);
    if (!record) return '';
    const step = record.steps.find((s) => s.state === 'failed') ?? [...record.steps].reverse().find((s) => s.state !== 'pending');
    return (step && (await this.clusters.stepLog(step, maxBytes))) ?? '';
  }

  private async readList(limit: number): Promise<JobRecord[]> {
    const summaries = await this.clusters.summaries({ days: 14, limit });
    const records: JobRecord[] = [];
    // A few at a time: DescribeCluster and ListSteps are throttled per account.
    const queue = [...summaries];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let s = queue.shift(); s; s = queue.shift()) {
          const record = await this.get(s.id);
          if (record) records.push(record);
        }
      }),
    );
    return records.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }
}

/** Packs this installation's toolkit into a folder kept while the process lives (the tarball is read when staged). */
async function packThisToolkit(): Promise<Artifact> {
  const scratch = await packDir();
  process.once('exit', () => rmSync(scratch.dir, { recursive: true, force: true }));
  return packToolkit(scratch.dir);
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= fn());
}
