import { isHourId, type HourId } from '../lake/layout.ts';
import { UserError } from '../errors.ts';
import type { JobSpec, JobStepSpec } from '../jobs/runner.ts';
import { NODE_CODE_DIR } from './code.ts';
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

/**
 * spark-submit on the cluster, through command-runner.jar: the job script from the code the
 * bootstrap action installed on every node, in client mode (the driver on the primary node, so
 * its output is the step's stdout log), one YARN attempt (a failed step fails at once).
 */
export function sparkStep(script: string, args: readonly string[]): string[] {
  return ['spark-submit', '--deploy-mode', 'client', '--conf', 'spark.yarn.maxAppAttempts=1', `${NODE_CODE_DIR}/${script}`, ...args];
}

/** The job of `openevents emr run`: the asked stages for one hour, as EMR steps, keyed by hour and stages. */
export function pipelineJob(settings: EmrSettings, hour: HourId, stages: readonly EmrStage[]): JobSpec {
  if (!isHourId(hour)) throw new UserError(`--hour must be an hour like 2026-11-28T06, got "${hour}"`);
  const steps: JobStepSpec[] = stages.map((stage) => {
    switch (stage) {
      case 'etl':
        // spark/jobs/etl.py reads the hour's raw objects and replaces its curated partitions (s3:// is read through s3a).
        return { label: `etl ${hour}`, hour, argv: sparkStep('spark/jobs/etl.py', ['--lake', settings.lake, '--hours', hour]) };
    }
  });
  return { kind: 'emr', label: `${stages.join(',')} ${hour}`, key: `${hour}/${stages.join(',')}`, steps };
}
