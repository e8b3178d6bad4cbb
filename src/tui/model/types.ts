import type { HourId } from '../../lake/layout.ts';
import type { Level } from '../../telemetry/telemetry.ts';

/**
 * The monitor's model: what each pane shows, independent of where it came from (local lake and
 * telemetry files now; CloudWatch Logs, S3 and EMR through the same shapes later).
 */

export type StreamState = 'running' | 'reconnecting' | 'stopped' | 'starting' | 'unknown';

/** One stats sample of the streamer (a `kind:'stats', component:'stream'` telemetry record). */
export interface StreamSample {
  atMs: number;
  eventsPerSec: number;
}

export interface StreamView {
  state: StreamState;
  /** Why the state is what it is when it was inferred (e.g. 'streamer started, no stats yet'). */
  note?: string;
  /** No stats for three intervals: the reported figures are old (see statsAtMs). */
  quiet?: boolean;
  eventsPerSec?: number;
  bytesPerSec?: number;
  events?: number;
  bytes?: number;
  reconnects?: number;
  invalid?: number;
  duplicates?: number;
  /** Age of the last event when the newest stats record was written (see lagMs for now). */
  lastEventAgeMs?: number;
  /** When the newest stats record was written. */
  statsAtMs?: number;
  /**
   * Records the streamer accepted that are not durable yet (its open raw file, or batches on
   * their way to Kinesis) as of its newest stats record: the open hour's share not yet listed.
   */
  inFlight?: number;
  /** events/s samples over the last minutes, oldest first. */
  history: StreamSample[];
  /** The local streamer job, when one is running. */
  jobId?: string;
  /** Where the streamer runs when it is not a local job: its EC2 instance and the instance's state. */
  host?: { id: string; state: string };
  /** The Kinesis stream between streamer and lake (aws): its open and closed (resharded) shards. */
  kinesis?: { stream: string; open: number; closed: number };
  /** The lander (Kinesis → lake), from its stats records. */
  lander?: LanderView;
}

/** The lander as its newest `kind:'stats', component:'land'` record tells it. */
export interface LanderView {
  state: 'running' | 'stopped' | 'unknown';
  recordsPerSec?: number;
  records?: number;
  /** MillisBehindLatest, the largest of its shards': how far the lake trails the stream. */
  lagMs?: number;
  /** Shards it holds. */
  shards?: number;
  statsAtMs: number;
  /** No stats for three intervals. */
  quiet?: boolean;
}

export type EtlState = 'waiting' | 'running' | 'done' | 'failed';

/** One hour of the lake grid. */
export interface LakeHour {
  hour: HourId;
  files: number;
  /** Records in the hour: from its manifest when closed, else from object names; undefined when unknown. */
  records?: number;
  bytes: number;
  /** The hour's _manifest.json exists (the streamer closed it). */
  closed: boolean;
  /** When the hour's first and newest raw objects arrived (object mtimes), when known. */
  firstArrivalMs?: number;
  lastArrivalMs?: number;
  /** The current hour only: records the streamer holds that no object has yet (the hour filling). */
  inFlight?: number;
  etl: EtlState;
  /** Why ETL failed, when it did. */
  etlReason?: string;
  /** Past its end + grace with raw data but not processed. */
  late: boolean;
  /** No raw data where the stream should have written some. */
  missing: boolean;
}

export interface LakeView {
  /** The lake root as a URL. */
  url: string;
  /** The last 24 hours, oldest first; the last one is the current hour. */
  hours: LakeHour[];
}

export type JobState = 'pending' | 'running' | 'succeeded' | 'failed' | 'stopped';

/** A run of the pipeline, local or on EMR, as the Jobs pane and `status` show it (see src/jobs/types.ts). */
export interface JobView {
  id: string;
  kind: string;
  label: string;
  state: JobState;
  /** Where it runs: 'local' or 'emr'. */
  runner: string;
  /** The runner's own state where it says more than `state` (an EMR cluster's: BOOTSTRAPPING, WAITING, …). */
  phase?: string;
  startedAtMs?: number;
  endedAtMs?: number;
  /** The state-change reason (why it failed or stopped); for a failed step, its FailureDetails. */
  reason?: string;
  /** The hours this job processes, for the lake grid. */
  hours?: HourId[];
  /** Per-hour outcome where the job knows it. */
  hourResults?: Record<HourId, 'running' | 'succeeded' | 'failed'>;
  /** Its steps: done / all, and the failed one's name. */
  steps?: { done: number; total: number; failed?: string };
  /** Where its logs are: the local log file, or the failed (else running) EMR step's log folder. */
  logs?: string;
  /** The EMR cluster it runs on. */
  clusterId?: string;
  /** EMR's normalised instance hours so far (a cost hint). */
  instanceHours?: number;
}

export interface LogLine {
  ts: string;
  level: Level;
  component: string;
  kind: string;
  msg: string;
}

export interface LogView {
  lines: LogLine[];
}

/** One pane's data as last fetched: a failed fetch keeps the previous data and marks it stale. */
export interface PaneData<T> {
  data?: T;
  /** The last fetch failed (or has not happened): show `error` and treat the data as old. */
  stale: boolean;
  error?: string;
  /** When data was last fetched successfully. */
  updatedAtMs?: number;
}

/** A firing alert as the banner shows it (text sanitised for the terminal). */
export interface AlertLine {
  rule: string;
  subject: string;
  message: string;
  since?: string;
}

/** The alert rules' verdict (src/alerts): the banner above the panes, and `status`. */
export interface AlertView {
  alerts: AlertLine[];
  /** When the rules were last evaluated (they are evaluated less often than the panes refresh). */
  evaluatedAtMs: number;
}

/** Everything the monitor and `status` show, fetched together. */
export interface PipelineSnapshot {
  atMs: number;
  profile: string;
  lake: string;
  panes: {
    stream: PaneData<StreamView>;
    lake: PaneData<LakeView>;
    jobs: PaneData<JobView[]>;
    logs: PaneData<LogView>;
  };
  /** The alert banner's data, when the pipeline has an alert source. */
  alerts?: PaneData<AlertView>;
}

export type PaneName = keyof PipelineSnapshot['panes'];
export const paneNames: readonly PaneName[] = ['stream', 'lake', 'jobs', 'logs'];

/** The age of the last event at `nowMs` (the model holds it as of its stats record, so it stays constant between records). */
export function lagMs(view: StreamView, nowMs: number): number | undefined {
  if (view.lastEventAgeMs === undefined) return undefined;
  return view.lastEventAgeMs + Math.max(0, nowMs - (view.statsAtMs ?? nowMs));
}
