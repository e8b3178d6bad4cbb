import type { HourId } from '../../lake/layout.ts';
import type { AlertView, JobView, LakeView, LogView, StreamView } from './types.ts';

/**
 * Where the monitor's data comes from: one adapter per pane. The local profile reads the lake's
 * files; the aws profile will plug in CloudWatch Logs (stream, logs), S3 (lake, through the same
 * ObjectStore) and EMR (jobs) behind the same interfaces. A fetch may throw: the pane then
 * shows its last data as stale with the error.
 */
export interface PaneSource<T> {
  fetch(): Promise<T>;
  /** Fetch no more often than this (a source that costs requests, e.g. an S3 listing); default: every refresh. */
  readonly intervalMs?: number;
}

export interface PipelineSources {
  /** 'local' or 'aws', shown in the header. */
  profile: string;
  /** The lake location, shown in the header. */
  location: string;
  stream: PaneSource<StreamView>;
  lake: PaneSource<LakeView>;
  jobs: PaneSource<JobView[]>;
  logs: PaneSource<LogView>;
  /** The alert rules, for the banner (optional: a pipeline without one shows no banner). */
  alerts?: PaneSource<AlertView>;
}

/** What an action returned, for the notice line and the audit record. */
export interface ActionResult {
  ok: boolean;
  message: string;
  jobId?: string;
}

/**
 * The one-key actions. Local: child processes via src/jobs/local.ts; aws later: the EC2
 * streamer and EMR steps. Each returns once the action has started (not finished).
 */
export interface PipelineActions {
  startStreamer(): Promise<ActionResult>;
  /** Stops the streamer this pipeline started (one started elsewhere is stopped where it runs). */
  stopStreamer(): Promise<ActionResult>;
  runEtl(hour: HourId): Promise<ActionResult>;
  trainModel(): Promise<ActionResult>;
  publishReport(): Promise<ActionResult>;
  /** ETL for the hour, then rebuild the report. */
  rerunHour(hour: HourId): Promise<ActionResult>;
  /** ETL for each hour in turn. */
  backfill(hours: HourId[]): Promise<ActionResult>;
}
