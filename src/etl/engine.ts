import type { HourId } from '../lake/layout.ts';
import type { ObjectStore } from '../lake/store.ts';
import type { EngineName } from './state.ts';
import type { CuratedTable } from './tables.ts';

/**
 * The ETL engine seam. An engine turns batches of raw hours into segment files of the curated
 * tables by running the shared SQL (src/etl/sql/); the orchestrator (run.ts) plans the batches,
 * checks the counts, publishes and commits the files and records the state, whatever the engine.
 * Engines: `duckdb` (in-process), `spark` (local spark-submit, one job per batch). An EMR engine
 * submits the same batches as steps of one cluster and reports each step as it ends: `run` takes
 * every batch at once and calls `done` per batch, in any order, for that reason.
 */
export interface Engine {
  readonly name: EngineName;
  /**
   * Runs the batches, one pass each, calling `done` as each ends (the caller commits it before
   * the engine goes on, so a killed run keeps every finished batch). A batch that fails as a
   * whole is reported with `{ error }`; the caller splits it to find the hour at fault.
   * Stops between batches when `context.signal` aborts.
   */
  run(batches: readonly EngineBatch[], context: EngineContext, done: (batch: EngineBatch, result: BatchResult) => Promise<void>): Promise<void>;
}

/** One engine pass: hours processed together, written as one segment per unit. */
export interface EngineBatch {
  /** Position of the batch in the run (names its scratch folder). */
  index: number;
  /** Every hour of the batch, sorted: each gets its row in `hours`, with or without records. */
  hours: HourId[];
  /** The raw objects to read, in hour and key order. */
  inputs: RawInput[];
  /** Hour → the unit its rows are written under: one segment (one file per table) per unit. */
  units: Record<HourId, string>;
  /** Recorded in `hours.processed_at`. */
  processedAt: Date;
}

/** A raw object an engine reads: its key in the lake and, when the engine can read it as a file, where. */
export interface RawInput {
  hour: HourId;
  key: string;
  size: number;
  mtimeMs: number;
  /** The object's version where the store has one (S3's ETag): the cached copy is of this version. */
  etag?: string;
  /** A local file with the object's bytes (a local lake, or a cached copy of a remote one). */
  path?: string;
}

export interface EngineContext {
  store: ObjectStore;
  /** A folder for the engine's output and temporary files; the caller removes it. */
  scratch: string;
  signal?: AbortSignal;
  /** Called as the engine makes progress inside a batch (records framed so far), for progress lines. */
  onRecords?: (batch: EngineBatch, records: number) => void;
}

/** What the SQL made of one hour. */
export interface HourCounts {
  raw: number;
  valid: number;
  quarantined: number;
}

/** A segment file an engine wrote: a local file for the caller to publish, or an object already in the lake under `segmentFileKey`. */
export type EngineFile = { rows: number } & ({ file: string } | { key: string; bytes: number });

export interface EngineSegment {
  unit: string;
  hours: HourId[];
  files: Partial<Record<CuratedTable, EngineFile>>;
}

export type BatchResult =
  | {
      ok: true;
      /** Per hour: its counts, or why it failed (a failed hour's rows are in no segment). */
      hours: Map<HourId, HourCounts | { error: string }>;
      segments: EngineSegment[];
    }
  | { ok: false; error: string };

/** The sort order of a table's rows in a segment file: by hour, then the table's key (a total order, so files are reproducible). */
export function sortColumns(key: readonly string[]): string[] {
  return ['arrival_hour', ...key.filter((k) => k !== 'arrival_hour')];
}
