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
