import { isHourId, type HourId } from '../lake/layout.ts';
import { UserError } from '../errors.ts';
import type { JobSpec, JobStepSpec } from '../jobs/runner.ts';
import { etlStep, type EtlPlan } from '../etl/engines/emr.ts';
import type { EmrSettings } from './settings.ts';
import { reportSteps, type ReportTarget } from './toolkit.ts';
import type { EmrStage } from './stages.ts';

export { EMR_STAGES, parseStages, type EmrStage } from './stages.ts';

/** Checks `--hour`. */
export function parseHour(hour: string): HourId {
  if (!isHourId(hour)) throw new UserError(`--hour must be an hour like 2026-11-28T06, got "${hour}"`);
  return hour;
}

/** What each asked stage runs: the hour's ETL plan, the staged training run's step, where the report goes. */
export interface StagePlans {
  etl?: EtlPlan;
  /** The training step of a run staged for EMR (src/ml/service.ts stageEmrRun). */
  ml?: JobStepSpec;
  report?: ReportTarget;
}

/**
 * The job of `openevents emr run`: the asked stages for one hour, as EMR steps in pipeline order
 * (etl → ml → report; the cluster's ActionOnFailure stops the rest when one fails), keyed by hour
 * and stages. The etl step runs the hour's ETL plan — the batches the ETL makes of it
 * (src/etl/engines/emr.ts), read from the lake by spark/jobs/etl.py; the ml step trains a staged
 * run with spark/jobs/ml.py; the report steps run the toolkit on the primary node (./toolkit.ts).
 */
export function pipelineJob(settings: EmrSettings, hour: HourId, stages: readonly EmrStage[], plans: StagePlans): JobSpec {
  const steps = stages.flatMap((stage): JobStepSpec[] => {
    switch (stage) {
      case 'etl':
        return [{ ...etlStep(need(plans.etl, stage), settings.lake), label: `etl ${hour}`, hour }];
      case 'ml':
        return [{ ...need(plans.ml, stage), hour }];
      case 'report':
        return reportSteps(settings.lake, hour, need(plans.report, stage), { etl: stages.includes('etl') });
    }
  });
  return { kind: 'emr', label: `${stages.join(',')} ${hour}`, key: `${hour}/${stages.join(',')}`, steps };
}

function need<T>(plan: T | undefined, stage: EmrStage): T {
  if (plan === undefined) throw new Error(`pipelineJob: no plan for the ${stage} stage`);
  return plan;
}
