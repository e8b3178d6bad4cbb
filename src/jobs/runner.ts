import { UserError } from '../errors.ts';
import { isActive, type JobRecord, type JobRunnerName } from './types.ts';

/** What to run: steps in turn, as one job. */
export interface JobSpec {
  kind: string;
  label: string;
  /**
   * The work's identity, e.g. `etl/2026-11-28T06`: while a job with this key is pending or
   * running, `start` refuses with a `JobRunningError` naming it (never two runs of the same work).
   */
  key?: string;
  /** Each step's arguments to `openevents` (a local job), or a full argv (`argv`: a program, or an EMR step's command-runner arguments). */
  steps: JobStepSpec[];
}

export interface JobStepSpec {
  label: string;
  args?: string[];
  argv?: string[];
  hour?: string;
}

/**
 * Runs pipeline jobs somewhere and reads them back: local child processes (LocalJobRunner) or
 * EMR clusters (EmrJobRunner). The monitor, `status` and the scheduler use this interface only.
 */
export interface JobRunner {
  readonly name: JobRunnerName;
  /** Starts the job; resolves once it is submitted (not finished). Throws `JobRunningError` for a key that is running. */
  start(spec: JobSpec): Promise<JobRecord>;
  /** The newest `limit` jobs, newest first. */
  list(limit?: number): Promise<JobRecord[]>;
  get(id: string): Promise<JobRecord | undefined>;
  /** The pending or running job of a kind (e.g. the streamer), if any. */
  running(kind: string): Promise<JobRecord | undefined>;
  /** Asks a job to stop; false when it is not running or cannot be reached. */
  stop(id: string): Promise<boolean>;
  /** Resolves with the job's record once it has ended. */
  wait(id: string, options?: WaitOptions): Promise<JobRecord>;
  /** The end of the job's log: the local log file, or the failed (else last) EMR step's stderr. */
  logTail(id: string, maxBytes?: number): Promise<string>;
}

export interface WaitOptions {
  timeoutMs?: number;
  pollMs?: number;
  /** Called whenever the record read differs from the last one (progress lines). */
  onChange?: (record: JobRecord) => void;
  signal?: AbortSignal;
}

/** A job with the same key is still pending or running: nothing new was started. */
export class JobRunningError extends UserError {
  constructor(readonly job: JobRecord) {
    super(`${job.label} is already ${job.state} (job ${job.id})`, { hint: `watch it with \`openevents status\`; it must end before the same work runs again` });
    this.name = 'JobRunningError';
  }
}

/** The one polling loop behind every runner's `wait`. */
export async function pollUntilDone(read: () => Promise<JobRecord | undefined>, id: string, options: WaitOptions = {}, now: () => number = Date.now): Promise<JobRecord> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const pollMs = options.pollMs ?? 100;
  const deadline = now() + timeoutMs;
  let last = '';
  for (;;) {
    const record = await read();
    if (record && options.onChange) {
      const seen = JSON.stringify(record);
      if (seen !== last) options.onChange(record);
      last = seen;
    }
    if (record && !isActive(record)) return record;
    if (options.signal?.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : new Error('stopped waiting');
    if (now() > deadline) throw new Error(`job ${id} still ${record?.state ?? 'missing'} after ${timeoutMs} ms`);
    await sleep(pollMs, options.signal);
  }
}

/** Jobs of several runners as one list, newest first (the Jobs pane, `status`). */
export async function listJobs(runners: readonly JobRunner[], limit = 50): Promise<JobRecord[]> {
  const lists = await Promise.all(runners.map((r) => r.list(limit)));
  return lists
    .flat()
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
    .slice(0, limit);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
