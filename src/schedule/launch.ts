import { setTimeout as sleep } from 'node:timers/promises';
import type { HourId } from '../lake/layout.ts';
import type { JobRunner, JobSpec } from '../jobs/runner.ts';
import { isActive, type JobRecord } from '../jobs/types.ts';

/** The part of a job runner the scheduler uses. */
export type ScheduleJobs = Pick<JobRunner, 'start' | 'get' | 'list' | 'stop'>;

/** How a run of the ETL ended, as its job says (which hours it finished is read from the ETL state). */
export interface LaunchOutcome {
  jobId?: string;
  ok: boolean;
  /** Why it failed, in one line. */
  reason?: string;
}

/** Runs the ETL over hours for the scheduler. */
export interface EtlLauncher {
  /** Runs the ETL over `hours` (oldest first) and resolves once it has ended; on abort it stops the run first. */
  run(hours: readonly HourId[], signal?: AbortSignal): Promise<LaunchOutcome>;
  /** Resolves once no scheduled run is going (one a scheduler that died left behind), so two never overlap. */
  settle(signal?: AbortSignal): Promise<void>;
}

/** The job kind of scheduled runs (the Jobs pane, `status --json`). */
export const SCHEDULE_JOB_KIND = 'schedule';

export interface JobEtlLauncherOptions {
  /** The lake as the `etl` command takes it (an absolute folder, or s3://…). */
  lake: string;
  /** The engine by name (`etl --engine`). */
  engine: string;
  /** How often a running job is looked at (default 500 ms). */
  pollMs?: number;
}

/**
 * Runs each scheduled ETL as a job of the job runner: one `openevents etl --hour h1,h2,…` step,
 * so the monitor's Jobs pane and `status --json` show every scheduled run with its log, and the
 * ETL runs its batches over all the hours at once (a catch-up is one batched pass, not one
 * process per hour).
 */
export class JobEtlLauncher implements EtlLauncher {
  private readonly pollMs: number;

  constructor(
    private readonly jobs: ScheduleJobs,
    private readonly options: JobEtlLauncherOptions,
  ) {
    this.pollMs = options.pollMs ?? 500;
  }

  async run(hours: readonly HourId[], signal?: AbortSignal): Promise<LaunchOutcome> {
    const label = `etl ${describeHours(hours)}`;
    const spec: JobSpec = {
      kind: SCHEDULE_JOB_KIND,
      label: `scheduled ${label}`,
      steps: [
        {
          label,
          args: ['etl', '--lake', this.options.lake, '--engine', this.options.engine, '--hour', hours.join(',')],
          ...(hours.length === 1 ? { hour: hours[0] as HourId } : {}),
        },
      ],
    };
    const job = await this.jobs.start(spec);
    const ended = await this.untilEnded(job.id, signal);
    return { jobId: job.id, ok: ended.state === 'succeeded', ...(ended.reason ? { reason: ended.reason } : {}) };
  }

  async settle(signal?: AbortSignal): Promise<void> {
    for (const job of await this.jobs.list()) {
      if (job.kind === SCHEDULE_JOB_KIND && isActive(job)) await this.untilEnded(job.id, signal);
    }
  }

  /** Polls the job until it ends; when `signal` aborts, asks it to stop and keeps waiting for its end. */
  private async untilEnded(id: string, signal?: AbortSignal): Promise<JobRecord> {
    let stopAsked = false;
    for (;;) {
      if (signal?.aborted && !stopAsked) {
        stopAsked = true;
        await this.jobs.stop(id);
      }
      const record = await this.jobs.get(id);
      if (!record) throw new Error(`job ${id} has no record`);
      if (!isActive(record)) return record;
      await sleep(this.pollMs);
    }
  }
}

/** Hours in a few words: one hour, or "first … last (n hours)". */
export function describeHours(hours: readonly HourId[]): string {
  if (hours.length === 1) return hours[0] as HourId;
  return `${hours[0]} … ${hours[hours.length - 1]} (${hours.length} hours)`;
}
