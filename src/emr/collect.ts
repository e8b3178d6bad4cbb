import type { Config } from '../config/schema.ts';
import type { JobRecord } from '../jobs/types.ts';
import type { HourId } from '../lake/layout.ts';
import type { ObjectStore } from '../lake/store.ts';
import type { EmrSettings } from './settings.ts';

// The lake only: `emr collect` runs this on the cluster as the nodes' role (openevents-emr-steps),
// so nothing here may reach an EMR call (test/ops/iam.test.ts derives that role from this module).

/** What `collectResults` committed. */
export interface Collected {
  /** The hour's ETL results, when an hour was given. */
  etl?: { hours: string[]; failed: string[]; validRecords: number };
  /** Training runs written from their EMR step's outputs. */
  runs: string[];
}

/**
 * Commits what a cluster's steps wrote to the lake, starting no cluster and asking EMR nothing:
 * the hour's ETL results (as the ETL commits a batch; a batch without a result fails its hour) and
 * every training run whose EMR step has finished (its metrics computed and written).
 * `emr run --wait` does this when its cluster ends, `emr collect` later — or on the cluster itself
 * before the report is built.
 */
export async function collectResults(
  config: Config,
  settings: EmrSettings,
  store: ObjectStore,
  /** `job`: the ended cluster, whose ml step gives its run's training time. */
  options: { hour?: HourId; job?: JobRecord; signal?: AbortSignal } = {},
): Promise<Collected> {
  const [{ runEtl }, { EmrEngine }, { completeEmrRun, finishedEmrRuns }] = await Promise.all([
    import('../etl/run.ts'),
    import('../etl/engines/emr.ts'),
    import('../ml/service.ts'),
  ]);
  let etl: Collected['etl'];
  if (options.hour) {
    const result = await runEtl(store, {
      graceMs: config.stream.hourGraceMs,
      batchRecords: config.etl.batchRecords,
      batchBytes: config.etl.batchBytes,
      select: { hours: [options.hour] },
      engine: new EmrEngine({ settings, collectOnly: true }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    etl = { hours: result.hours, failed: result.failed, validRecords: result.validRecords };
  }
  const runs: string[] = [];
  for (const runId of await finishedEmrRuns(store)) runs.push((await completeEmrRun(store, runId, options.job)).runId);
  return { ...(etl ? { etl } : {}), runs };
}
