// Apart from createEngine (engines/index.ts): this is what starts EMR clusters, and runEtl, which
// takes its engine ready-made, must not reach it — `emr collect` runs runEtl on a cluster, as the
// nodes' role (test/ops/iam.test.ts derives that role from what the step commands reach).
import type { Config } from '../../config/schema.ts';
import type { Engine } from '../engine.ts';
import type { EngineName } from '../state.ts';
import { createEngine } from './index.ts';

/**
 * The engine a config names (`etl.engine`, or `name`), with what it needs: for emr, the EMR job
 * runner and settings of the config (clients from the one AWS client factory). `etl`, `emr run`
 * and the scheduler get their engine here.
 */
export async function configuredEngine(config: Config, options: { name?: EngineName; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Engine> {
  const name = options.name ?? config.etl.engine;
  if (name !== 'emr') return createEngine(name, options.env ? { env: options.env } : {});
  const { createEmrRunner } = await import('../../emr/service.ts');
  return createEngine('emr', { emr: await createEmrRunner(config, { ...(options.cwd ? { cwd: options.cwd } : {}), ...(options.env ? { env: options.env } : {}) }) });
}
