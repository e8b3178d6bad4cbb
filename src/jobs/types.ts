/**
 * A local job: one or more commands run in turn by a detached supervisor process, with its state
 * in `<jobs dir>/<id>.json` (so `openevents status` and a restarted monitor see it) and its
 * output in `<jobs dir>/<id>.log`.
 */
export type JobRecordState = 'pending' | 'running' | 'succeeded' | 'failed' | 'stopped';

export interface JobStep {
  /** What the step does, e.g. 'etl 2026-11-28T06'. */
  label: string;
  /** The program and its arguments. */
  argv: string[];
  /** The hour the step processes, if any. */
  hour?: string;
  exitCode?: number | null;
  signal?: string | null;
  state?: 'running' | 'succeeded' | 'failed' | 'stopped';
}

export interface JobRecord {
  id: string;
  /** 'stream', 'etl', 'ml', 'report', 'rerun', 'backfill', ... */
  kind: string;
  label: string;
  state: JobRecordState;
  steps: JobStep[];
  /** Who started it (OS user). */
  who: string;
  cwd: string;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  /** The supervisor's pid (the process to signal). */
  supervisorPid?: number;
  /** The pid of the step running now. */
  pid?: number;
  /** Why it failed or stopped. */
  reason?: string;
  stopRequested?: boolean;
  logFile: string;
}
