/**
 * The one job model: a run of pipeline work, wherever it runs. A local job is a detached
 * supervisor running commands in turn (state in `<jobs dir>/<id>.json`, output in
 * `<jobs dir>/<id>.log`); an EMR job is a cluster whose steps run the Spark jobs (state read
 * from the EMR API, logs under the cluster's LogUri). `openevents status`, the monitor's Jobs
 * pane and the scheduler read both through the `JobRunner` interface (src/jobs/runner.ts).
 */
export type JobRecordState = 'pending' | 'running' | 'succeeded' | 'failed' | 'stopped';

/** Where a job runs. */
export type JobRunnerName = 'local' | 'emr';

/** A step's state in the toolkit's terms (an EMR step's own state is kept in `nativeState`). */
export type JobStepState = 'pending' | 'running' | 'succeeded' | 'failed' | 'stopped';

/** Why something changed state, as EMR reports it: a code (e.g. `STEP_FAILURE`) and a message. */
export interface StateChangeReason {
  code?: string;
  message?: string;
}

/** Why a step failed, as EMR's FailureDetails: the reason, the message, and the log that shows it. */
export interface FailureDetails {
  reason?: string;
  message?: string;
  /** The log file with the failure: an s3:// URI (EMR) or a local path. */
  logFile?: string;
}

export interface JobStep {
  /** What the step does, e.g. 'etl 2026-11-28T06'. */
  label: string;
  /** The program and its arguments (an EMR step: the command-runner.jar arguments). */
  argv: string[];
  /** The hour the step processes, if any. */
  hour?: string;
  state?: JobStepState;
  /** A local step's exit. */
  exitCode?: number | null;
  signal?: string | null;
  /** An EMR step's id (s-…). */
  stepId?: string;
  /** The runner's own name for the state, where it has one (EMR: PENDING, RUNNING, COMPLETED, CANCELLED, FAILED, INTERRUPTED). */
  nativeState?: string;
  stateChangeReason?: StateChangeReason;
  failure?: FailureDetails;
  /** Where this step's output is: the job's log file (local) or the step's log folder under the cluster's LogUri (EMR). */
  logs?: string;
  startedAt?: string;
  endedAt?: string;
}

/** The EMR cluster a job runs on. */
export interface ClusterInfo {
  id: string;
  /** EMR's state: STARTING, BOOTSTRAPPING, RUNNING, WAITING, TERMINATING, TERMINATED, TERMINATED_WITH_ERRORS. */
  state: string;
  stateChangeReason?: StateChangeReason;
  /** Where EMR writes the cluster's logs (`<logUri>/<cluster id>/steps/<step id>/stderr.gz`). */
  logUri?: string;
  releaseLabel?: string;
  /** Instance hours normalised to a small instance (EMR's cost measure): a cost hint. */
  normalizedInstanceHours?: number;
  tags?: Record<string, string>;
}

export interface JobRecord {
  id: string;
  /** Where it runs (records written before there were runners are local). */
  runner: JobRunnerName;
  /** 'stream', 'etl', 'ml', 'report', 'rerun', 'backfill', 'emr', ... */
  kind: string;
  label: string;
  state: JobRecordState;
  steps: JobStep[];
  /** Who started it (OS user). */
  who: string;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  /** Why it failed or stopped, in one line (an EMR job: the cluster's or the failed step's reason). */
  reason?: string;
  /** The work's identity: while a job with this key is pending or running, no second one starts. */
  key?: string;
  /** A local job's working directory. */
  cwd?: string;
  /** A local job's supervisor pid (the process to signal). */
  supervisorPid?: number;
  /** The pid of a local job's step running now. */
  pid?: number;
  stopRequested?: boolean;
  /** A local job's output (every step's). */
  logFile?: string;
  /** An EMR job's cluster. */
  cluster?: ClusterInfo;
}

/** True while a job may still change. */
export function isActive(record: Pick<JobRecord, 'state'>): boolean {
  return record.state === 'pending' || record.state === 'running';
}
