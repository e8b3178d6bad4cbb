import { UserError } from '../errors.ts';

// Light on purpose: the CLI reads the stage names when it starts (help, completion).

/** The pipeline stages `openevents emr run --steps` can put on a cluster, in the order they run. */
export const EMR_STAGES = ['etl', 'ml', 'report'] as const;
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
