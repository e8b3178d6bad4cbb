import { isHourId, type HourId } from '../lake/layout.ts';
import { UserError } from '../errors.ts';
import type { JobSpec } from '../jobs/runner.ts';
import { etlStep, type EtlPlan } from '../etl/engines/emr.ts';
import type { EmrSettings } from './settings.ts';

/** The pipeline stages `openevents emr run --steps` can put on a cluster, in the order they run. */
export const EMR_STAGES = ['etl'] as const;
export type EmrStage = (typeof EMR_STAGES)[number];

/** Parses `--steps etl,…`: known stages, each once, in pipeline order. */
export function parseStages(value: string): EmrStage[] {
  const asked = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = asked.filter((s) => !(EMR_STAGES as readonly string[]).includes(s));
  if (unknown.length > 0 || asked.length === 0) {
    throw new UserError(`--steps takes a comma-separated list of ${EMR_STAGES.join(', ')}; got "${value}"`);
  }
  return EMR_STAGES.filter((s) => asked.includes(s));
}

/** Checks `--hour`. */
export function parseHour(hour: string): HourId {
  if (!isHourId(hour)) throw new UserError(`--hour must be an hour like 2026-11-28T06, got "${hour}"`);
  return hour;
}

/**
 * The job of `openevents emr run`: the asked stages for one hour, as EMR steps, keyed by hour and
 * stages. The etl step runs the hour's ETL plan — the batches the ETL makes of it
 * (src/etl/engines/emr.ts), read from the lake by spark/jobs/etl.py.
 */
export function pipelineJob(settings: EmrSettings, hour: HourId, stages: readonly EmrStage[], plan: { etl: EtlPlan }): JobSpec {
  const steps = stages.map((stage) => {
    switch (stage) {
      case 'etl':
        return { ...etlStep(plan.etl, settings.lake), label: `etl ${hour}`, hour };
    }
  });
  return { kind: 'emr', label: `${stages.join(',')} ${hour}`, key: `${hour}/${stages.join(',')}`, steps };
}
