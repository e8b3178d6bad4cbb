import type { Config } from '../../config/schema.ts';
import { jobsDir, LocalJobRunner, osUser } from '../../jobs/local.ts';
import { isActive, type JobRecord } from '../../jobs/types.ts';
import { errorMessage } from '../../errors.ts';
import { PartialFetchError, withTimeout } from './snapshot.ts';
import { listJobs, type JobRunner } from '../../jobs/runner.ts';
import type { HourId } from '../../lake/layout.ts';
import { createRuntime, type Runtime } from '../../config/runtime.ts';
import type { ObjectStore } from '../../lake/store.ts';
import type { TelemetrySink } from '../../telemetry/telemetry.ts';
import { redactUrl } from '../../redact.ts';
import { statsFromTelemetry } from '../../alerts/facts.ts';
import { thresholdsOf } from '../../alerts/service.ts';
import { AlertSource } from './alerts-source.ts';
import { jobView } from './jobs-source.ts';
import type { JobView } from './types.ts';
import { LakeSource, type EtlStateReader, type RawHourLister } from './lake-source.ts';
import { LogsSource } from './logs-source.ts';
import type { ActionResult, PipelineActions, PipelineSources } from './sources.ts';
import { StreamSource, type StreamSourceOptions } from './stream-source.ts';
import { TelemetryHub } from './telemetry-feed.ts';

export interface LocalPipelineOptions {
  config: Config;
  cwd: string;
  /** Extra environment for jobs (e.g. OPENEVENTS_CONFIG when the monitor got --config). */
  jobEnv?: Record<string, string>;
  /** The config's lake, telemetry and clients (default: built here from `config`). */
  runtime?: Runtime;
  store?: ObjectStore;
  who?: string;
  now?: () => number;
  /** Override the lake readers (the stage owners' readers, when they exist). */
  listRawHours?: RawHourLister;
  readEtlState?: EtlStateReader;
  /** Runners whose jobs the Jobs pane shows beside the local ones (EMR on the aws profile). */
  otherRunners?: JobRunner[];
  /** What the Stream pane shows beside telemetry (aws: the EC2 streamer's instance, the Kinesis shards). */
  stream?: Pick<StreamSourceOptions, 'host' | 'kinesis'>;
  /** Read the lake no more often than this (a remote lake's listing costs requests). */
  lakeIntervalMs?: number;
  /** Poll telemetry no more often than this (CloudWatch Logs). */
  telemetryIntervalMs?: number;
  /** The actions, given the local ones and the local runner (aws: EMR runs, the EC2 streamer). */
  actions?: (local: PipelineActions, runner: JobRunner) => PipelineActions;
}

/** The local pipeline as the monitor sees it: its sources, its actions, and where audit lines go. */
export interface LocalPipeline {
  sources: PipelineSources;
  actions: PipelineActions;
  runner: JobRunner;
  telemetry: TelemetrySink;
  store: ObjectStore;
  who: string;
}

/**
 * Wires the monitor to the pipeline of the config (the aws profile adds its parts through the
 * options, see run-monitor.ts): its telemetry (read and written through the
 * runtime: JSON lines locally, CloudWatch Logs on the aws profile) and local jobs, whose files
 * live under the lake (an S3 lake keeps them under ./.openevents/jobs).
 */
export async function createLocalPipeline(options: LocalPipelineOptions): Promise<LocalPipeline> {
  const { config, cwd } = options;
  const now = options.now ?? Date.now;
  const runtime = options.runtime ?? createRuntime(config, { cwd, now });
  const store = options.store ?? (await runtime.lake());
  const root = store.localPath('.');
  const who = options.who ?? osUser();
  const runner: JobRunner = new LocalJobRunner({
    dir: jobsDir(store, cwd),
    cwd,
    who,
    now,
    // The source URL travels in the environment, not argv: a token in it stays out of `ps` and job records.
    env: { ...options.jobEnv, OPENEVENTS_SOURCE_URL: config.source.url },
  });
  const reader = await runtime.telemetryReader();
  const hub = new TelemetryHub(reader.feed(), options.telemetryIntervalMs ?? 0, now);
  // Three panes ask for the jobs each refresh: they share one read.
  const allJobs = coalesce(jobLister(runner, options.otherRunners ?? []));
  const jobs = (): Promise<JobView[]> => allJobs().then(({ records }) => records.map(jobView));
  const streamer = async (): Promise<{ id: string } | undefined> => (await allJobs()).records.find((r) => r.kind === 'stream' && r.runner === 'local' && isActive(r));
  const stream = new StreamSource({
    hub,
    streamerJob: streamer,
    statsIntervalMs: config.stream.statsIntervalMs,
    // A record polled every telemetryIntervalMs can be that much older when seen, plus shipping (CloudWatch: about 2 s).
    telemetryDelayMs: options.telemetryIntervalMs ? options.telemetryIntervalMs + 2_000 : 0,
    now,
    ...options.stream,
  });
  const sources: PipelineSources = {
    profile: config.profile,
    location: config.lake,
    stream,
    lake: new LakeSource({
      store,
      jobs,
      streaming: async () => (await streamer()) !== undefined,
      inFlight: () => stream.inFlight(),
      ...(options.lakeIntervalMs ? { intervalMs: options.lakeIntervalMs } : {}),
      graceMs: config.stream.hourGraceMs,
      now,
      ...(options.listRawHours ? { listRawHours: options.listRawHours } : {}),
      ...(options.readEtlState ? { readEtlState: options.readEtlState } : {}),
    }),
    jobs: {
      async fetch() {
        const { records, problems } = await allJobs();
        const views = records.map(jobView);
        if (problems.length) throw new PartialFetchError(views, problems.join('; '));
        return views;
      },
    },
    logs: new LogsSource(hub),
    alerts: new AlertSource({
      facts: { store, latestStats: statsFromTelemetry(reader), jobs: async () => (await allJobs()).records, lookbackHours: config.alerts.lookbackHours },
      hub,
      thresholds: thresholdsOf(config),
      now,
    }),
  };
  const lakeArg = root ?? config.lake;
  const telemetry = await runtime.telemetry('monitor');
  const local = localActions(runner, lakeArg, config);
  return { sources, actions: options.actions ? options.actions(local, runner) : local, runner, telemetry, store, who };
}

/** The one-key actions as local jobs running `openevents` subcommands. */
export function localActions(runner: JobRunner, lake: string, config: Config): PipelineActions {
  const etlStep = (hour: HourId) => ({ label: `etl ${hour}`, args: ['etl', '--lake', lake, '--hour', hour], hour });
  const started = (what: string, id: string): ActionResult => ({ ok: true, message: `${what} started (job ${id})`, jobId: id });
  return {
    async startStreamer() {
      const running = await runner.running('stream');
      if (running) return { ok: false, message: `the streamer already runs (job ${running.id})` };
      const job = await runner.start({
        kind: 'stream',
        label: `stream ${redactUrl(config.source.url)}`,
        steps: [{ label: 'stream', args: ['stream', '--lake', lake] }],
      });
      return started('streamer', job.id);
    },
    async stopStreamer() {
      const running = await runner.running('stream');
      if (!running) return { ok: false, message: 'this streamer was not started from here (no streamer job): stop it where it runs' };
      return (await runner.stop(running.id))
        ? { ok: true, message: `stopping the streamer (job ${running.id})`, jobId: running.id }
        : { ok: false, message: `the streamer (job ${running.id}) could not be signalled` };
    },
    async runEtl(hour) {
      const busy = (await runner.list()).find((j) => isActive(j) && j.steps.some((s) => s.hour === hour));
      if (busy) return { ok: false, message: `${hour} is already being processed (job ${busy.id})` };
      const job = await runner.start({ kind: 'etl', label: `etl ${hour}`, steps: [etlStep(hour)] });
      return started(`ETL for ${hour}`, job.id);
    },
    async trainModel() {
      const job = await runner.start({ kind: 'ml', label: 'ml train', steps: [{ label: 'ml train', args: ['ml', 'train', '--lake', lake] }] });
      return started('training', job.id);
    },
    async publishReport() {
      const job = await runner.start({
        kind: 'report',
        label: 'report build + publish',
        steps: [
          { label: 'report build', args: ['report', 'build', '--lake', lake] },
          { label: 'report publish', args: ['report', 'publish', '--lake', lake] },
        ],
      });
      return started('report build + publish', job.id);
    },
    async rerunHour(hour) {
      const job = await runner.start({
        kind: 'rerun',
        label: `rerun ${hour}`,
        steps: [etlStep(hour), { label: 'report build', args: ['report', 'build', '--lake', lake] }],
      });
      return started(`rerun of ${hour}`, job.id);
    },
    async backfill(hours) {
      if (hours.length === 0) return { ok: false, message: 'no failed or late hours to backfill' };
      const job = await runner.start({ kind: 'backfill', label: `backfill ${hours.length} hour(s)`, steps: hours.map(etlStep) });
      return started(`backfill of ${hours.length} hour(s)`, job.id);
    },
  };
}

/** How long another runner (EMR) may take to list its jobs before the local ones are shown without its fresh ones. */
export const OTHER_RUNNER_TIMEOUT_MS = 5_000;

/**
 * Lists the jobs of the local runner (its failure is the pane's) and of the other runners: one
 * that fails or does not answer in time gives its last known jobs and a problem to show, so an
 * EMR outage never takes the local jobs, the lake grid or the streamer's state down with it.
 */
export function jobLister(local: JobRunner, others: readonly JobRunner[], timeoutMs = OTHER_RUNNER_TIMEOUT_MS): () => Promise<{ records: JobRecord[]; problems: string[] }> {
  const last = new Map<JobRunner, JobRecord[]>();
  return async () => {
    const problems: string[] = [];
    const lists = await Promise.all([
      listJobs([local]),
      ...others.map(async (runner) => {
        try {
          const records = await withTimeout(listJobs([runner]), timeoutMs);
          last.set(runner, records);
          return records;
        } catch (error) {
          problems.push(`${runner.name}: ${errorMessage(error)}`);
          return last.get(runner) ?? [];
        }
      }),
    ]);
    return { records: lists.flat().sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0)), problems };
  };
}

/** Concurrent calls share one in-flight promise. */
function coalesce<T>(fn: () => Promise<T>): () => Promise<T> {
  let inflight: Promise<T> | undefined;
  return () => (inflight ??= fn().finally(() => (inflight = undefined)));
}
