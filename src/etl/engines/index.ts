import type { Engine } from '../engine.ts';
import type { EngineName } from '../state.ts';
import { DuckdbEngine } from './duckdb.ts';
import { SparkEngine, type SparkEngineOptions } from './spark.ts';

/** The engine of a name (config `etl.engine`, `--engine`). */
export function createEngine(name: EngineName, options: SparkEngineOptions = {}): Engine {
  switch (name) {
    case 'duckdb':
      return new DuckdbEngine();
    case 'spark':
      return new SparkEngine(options);
  }
}
