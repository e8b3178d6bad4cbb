import type { Runtime } from '../config/runtime.ts';
import { jobsDir, LocalJobRunner } from '../jobs/local.ts';
import { JobEtlLauncher } from './launch.ts';
import type { ScheduleSettings } from './plan.ts';
import type { SchedulerOptions } from './scheduler.ts';

export interface SchedulerSetupOptions {
  cwd: string;
  /** Extra environment for the ETL jobs (OPENEVENTS_CONFIG when the command got --config). */
  jobEnv?: Record<string, string>;
}

/**
 * The scheduler of a runtime: ticks every `schedule.everyMs`, runs the ETL as local jobs of
 * `openevents etl --engine <etl.engine>` (kept with the monitor's jobs: `<lake>/_state/jobs`, or
 * `./.openevents/jobs` for an S3 lake), reports to the runtime's telemetry (CloudWatch Logs on
 * the aws profile). The engine is the ETL's business: the scheduler only passes its name on.
 */
export async function setUpScheduler(runtime: Runtime, options: SchedulerSetupOptions): Promise<Omit<SchedulerOptions, 'signal'>> {
  const { config } = runtime;
  const [store, telemetry] = await Promise.all([runtime.lake({ mustExist: true }), runtime.telemetry('schedule')]);
  const runner = new LocalJobRunner({ dir: jobsDir(store, options.cwd), cwd: options.cwd, ...(options.jobEnv ? { env: options.jobEnv } : {}) });
  const settings: ScheduleSettings = {
    everyMs: config.schedule.everyMs,
    graceMs: config.stream.hourGraceMs,
    maxAttempts: config.schedule.maxAttempts,
    retryInitialMs: config.schedule.retryInitialMs,
    retryMaxMs: config.schedule.retryMaxMs,
  };
  return {
    store,
    launcher: new JobEtlLauncher(runner, { lake: store.localPath('.') ?? config.lake, engine: config.etl.engine }),
    settings,
    leaseTtlMs: config.schedule.leaseTtlMs,
    telemetry,
  };
}
