import type { Config } from '../config/schema.ts';
import { jobsDir, LocalJobRunner } from '../jobs/local.ts';
import { openLake } from '../lake/open.ts';
import type { ObjectStore } from '../lake/store.ts';
import { LocalTelemetry, type TelemetrySink } from '../telemetry/telemetry.ts';
import { gatherFacts, statsFromTelemetry, type FactSources } from './facts.ts';
import { evaluateAlerts, type Alert, type AlertThresholds } from './rules.ts';

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
  now?: () => number;
}

/** The fact sources of a config: its lake, the lake's telemetry, the lake's local jobs. */
export async function alertSources(config: Config, options: AlertSourcesOptions): Promise<{ sources: FactSources; telemetry?: TelemetrySink; store: ObjectStore }> {
  const store = await openLake(config.lake, options.cwd, { mustExist: true });
  const root = store.localPath('.');
  const telemetry = root ? new LocalTelemetry(root, options.now ? { now: options.now } : {}) : undefined;
  const runner = new LocalJobRunner({ dir: jobsDir(store, options.cwd), cwd: options.cwd });
  const sources: FactSources = {
    store,
    latestStats: telemetry ? statsFromTelemetry(telemetry) : async () => undefined,
    jobs: () => runner.list(200),
    lookbackHours: config.alerts.lookbackHours,
    ...(options.now ? { now: options.now } : {}),
  };
  return { sources, store, ...(telemetry ? { telemetry } : {}) };
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
