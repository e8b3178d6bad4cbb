import type { Config } from '../../config/schema.ts';
import { UserError } from '../../errors.ts';
import type { Engine } from '../engine.ts';
import type { EngineName } from '../state.ts';
import { DuckdbEngine } from './duckdb.ts';
import { EmrEngine, type EmrEngineOptions } from './emr.ts';
import { SparkEngine, type SparkEngineOptions } from './spark.ts';

export interface EngineOptions extends SparkEngineOptions {
  /** The EMR job runner and settings (the emr engine). */
  emr?: EmrEngineOptions;
}

/** The engine of a name (config `etl.engine`, `--engine`). */
export function createEngine(name: EngineName, options: EngineOptions = {}): Engine {
  switch (name) {
    case 'duckdb':
      return new DuckdbEngine();
    case 'spark':
      return new SparkEngine(options);
    case 'emr':
      if (!options.emr) throw new UserError('the emr engine needs its EMR settings', { hint: 'run it through `openevents etl` with the config of an s3:// lake' });
      return new EmrEngine(options.emr);
  }
}

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
