import type { Runtime } from '../config/runtime.ts';
import type { Config } from '../config/schema.ts';
import { jobsDir, LocalJobRunner } from '../jobs/local.ts';
import { listJobs, type JobRunner } from '../jobs/runner.ts';
import type { TelemetrySink } from '../telemetry/telemetry.ts';
import { gatherFacts, statsFromTelemetry, type FactSources } from './facts.ts';
import { evaluateAlerts, type Alert, type AlertThresholds } from './rules.ts';

/** Jobs of this many of the newest per runner are looked at (the lookback window trims them further). */
const JOBS_LOOKED_AT = 200;

/** The thresholds of a config: `alerts.*` and the hour grace `stream.hourGraceMs`. */
export function thresholdsOf(config: Config): AlertThresholds {
  const { streamSilentMs, streamStalledMs, hourLateMs, quarantineRate, quarantineMinRecords, landerLagMs } = config.alerts;
  return { streamSilentMs, streamStalledMs, hourLateMs, quarantineRate, quarantineMinRecords, landerLagMs, graceMs: config.stream.hourGraceMs };
}

export interface AlertReport {
  /** When the rules were evaluated (ISO). */
  evaluatedAt: string;
  alerts: Alert[];
}

/** Evaluates the rules on facts from the given sources. */
export async function checkAlerts(sources: FactSources, thresholds: AlertThresholds): Promise<AlertReport> {
  const facts = await gatherFacts(sources);
  return { evaluatedAt: new Date(facts.nowMs).toISOString(), alerts: evaluateAlerts(facts, thresholds) };
}

export interface AlertSourcesOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

/**
 * The fact sources of a runtime: its lake, its telemetry (JSON lines locally, CloudWatch Logs on
 * the aws profile), and the jobs of every runner — the lake's local jobs and, on the aws profile
 * with a lake in S3, the pipeline's EMR clusters (as the monitor's Jobs pane lists them).
 */
export async function alertSources(runtime: Runtime, options: AlertSourcesOptions): Promise<FactSources> {
  const { config } = runtime;
  const [store, reader] = await Promise.all([runtime.lake({ mustExist: true }), runtime.telemetryReader()]);
  const runners: JobRunner[] = [new LocalJobRunner({ dir: jobsDir(store, options.cwd), cwd: options.cwd })];
  if (config.profile === 'aws' && config.lake.startsWith('s3://')) {
    const { createEmrRunner } = await import('../emr/service.ts');
    runners.push((await createEmrRunner(config, { cwd: options.cwd, ...(options.env ? { env: options.env } : {}) })).runner);
  }
  return {
    store,
    latestStats: statsFromTelemetry(reader),
    jobs: () => listJobs(runners, JOBS_LOOKED_AT),
    lookbackHours: config.alerts.lookbackHours,
    ...(options.now ? { now: options.now } : {}),
  };
}

/**
 * Writes each firing alert as one ERROR record (component `alerts`; CloudWatch Logs on the aws
 * profile), so a metric filter or a log search sees it. Every evaluation writes them again: an
 * alarm counting ERRORs over a period stays raised while the problem lasts.
 */
export function emitAlerts(sink: TelemetrySink, alerts: readonly Alert[]): void {
  for (const alert of alerts) {
    sink.emit({ level: 'error', component: 'alerts', kind: 'log', msg: `ALERT ${alert.rule} ${alert.subject}: ${alert.message}`, data: { ...alert } });
  }
}
