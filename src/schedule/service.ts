import type { Config } from '../config/schema.ts';
import { jobsDir, LocalJobRunner } from '../jobs/local.ts';
import { openLake } from '../lake/open.ts';
import { LocalTelemetry, nullTelemetry, type TelemetrySink } from '../telemetry/telemetry.ts';
import { JobEtlLauncher } from './launch.ts';
import type { ScheduleSettings } from './plan.ts';
import type { SchedulerOptions } from './scheduler.ts';

export interface SchedulerSetupOptions {
  cwd: string;
  /** Extra environment for the ETL jobs (OPENEVENTS_CONFIG when the command got --config). */
  jobEnv?: Record<string, string>;
  now?: () => number;
}

/** A scheduler wired from the config: the lake, a local job runner for its ETL runs, telemetry. */
export interface SchedulerSetup {
  options: Omit<SchedulerOptions, 'signal'>;
  telemetry: TelemetrySink;
}

/**
 * Builds the scheduler of a config: ticks every `schedule.everyMs`, runs the ETL on the engine
 * `etl.engine` as local jobs (kept with the monitor's jobs: `<lake>/_state/jobs`, or
 * `./.openevents/jobs` for an S3 lake), reports to the lake's telemetry.
 */
export async function setUpScheduler(config: Config, options: SchedulerSetupOptions): Promise<SchedulerSetup> {
  const store = await openLake(config.lake, options.cwd, { mustExist: true });
  const root = store.localPath('.');
  const runner = new LocalJobRunner({
    dir: jobsDir(store, options.cwd),
    cwd: options.cwd,
    ...(options.jobEnv ? { env: options.jobEnv } : {}),
  });
  const telemetry: TelemetrySink = root ? new LocalTelemetry(root, options.now ? { now: options.now } : {}) : nullTelemetry;
  const settings: ScheduleSettings = {
    everyMs: config.schedule.everyMs,
    graceMs: config.stream.hourGraceMs,
    maxAttempts: config.schedule.maxAttempts,
    retryInitialMs: config.schedule.retryInitialMs,
    retryMaxMs: config.schedule.retryMaxMs,
  };
  return {
    options: {
      store,
      launcher: new JobEtlLauncher(runner, { lake: root ?? config.lake, engine: config.etl.engine }),
      settings,
      leaseTtlMs: config.schedule.leaseTtlMs,
      telemetry,
      ...(options.now ? { now: options.now } : {}),
    },
    telemetry,
  };
}
