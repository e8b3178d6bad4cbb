import { gunzipSync, gzipSync } from 'node:zlib';
import { MODELS } from '../lake/layout.ts';
import { getJson, listAll, putJson, type ObjectStore } from '../lake/store.ts';
import type { LabelledDoc } from './labels.ts';
import type { Metrics } from './metrics.ts';
import type { CalibrationSummary } from './cv.ts';
import type { ModelKind, ModelParams, TextModelFile, WordImportance } from './model.ts';
import type { GroupSplit } from './split.ts';

/**
 * A training run in the lake: `models/<run-id>/` with
 * metrics.json (the report's contract), params.json, split.json, test-set.ndjson.gz and the
 * model (model.json for the embedded engine, spark-model/ for Spark's PipelineModel).
 * Run ids sort by time: `YYYYMMDD-HHMMSS-mmm-<engine>`.
 */

/** ts: embedded; spark: Spark ML by local spark-submit; emr: the same Spark job as an EMR step (a Spark model either way). */
export type Engine = 'ts' | 'spark' | 'emr';

/** metrics.json of a run. Rows of the confusion matrix are the actual class, columns the predicted one. */
export interface RunMetricsFile {
  runId: string;
  engine: Engine;
  /** The classifier (absent in runs from before the linear models: the forest). */
  model?: ModelKind;
  /** ISO-8601 UTC. */
  trainedAt: string;
  params: ModelParams & { testFraction: number };
  data: { trainRows: number; testRows: number; trainGroups: number; testGroups: number };
  metrics: Metrics;
  /** Calibration of P(tech) on the test side (Brier, log loss, ECE). */
  calibration?: CalibrationSummary;
  topWords: WordImportance[];
}

/** params.json of a run: what was asked and how long it took. */
export interface RunParamsFile {
  runId: string;
  engine: Engine;
  params: ModelParams & { testFraction: number };
  /** Vocabulary actually kept (≤ vocabularySize after minDf). */
  vocabulary: number;
  trainSeconds: number;
}

export const runPrefix = (runId: string): string => `${MODELS}/${runId}/`;
export const metricsKey = (runId: string): string => `${runPrefix(runId)}metrics.json`;
export const paramsKey = (runId: string): string => `${runPrefix(runId)}params.json`;
export const splitKey = (runId: string): string => `${runPrefix(runId)}split.json`;
export const testSetKey = (runId: string): string => `${runPrefix(runId)}test-set.ndjson.gz`;
export const modelKey = (runId: string): string => `${runPrefix(runId)}model.json`;
/** A cross-validation result (`ml evaluate --cv`); kept beside the runs, never listed as one. */
export const cvKey = (id: string): string => `${MODELS}/_cv/${id}.json`;
/** Prefix of the saved Spark PipelineModel's files. */
export const sparkModelPrefix = (runId: string): string => `${runPrefix(runId)}spark-model/`;

/** A new run id for `engine` at `now`. */
export function newRunId(engine: Engine, now: Date): string {
  const iso = now.toISOString(); // 2026-11-28T06:30:12.345Z
  return `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}-${iso.slice(20, 23)}-${engine}`;
}

/** Ids of the runs that finished (have metrics.json), oldest first. */
export async function listRuns(store: ObjectStore): Promise<string[]> {
  const ids = new Set<string>();
  for (const info of await listAll(store, `${MODELS}/`)) {
    const m = /^models\/([^/]+)\/metrics\.json$/.exec(info.key);
    if (m) ids.add(m[1]!);
  }
  return [...ids].sort();
}

export async function readRunMetrics(store: ObjectStore, runId: string): Promise<RunMetricsFile | undefined> {
  return getJson<RunMetricsFile>(store, metricsKey(runId));
}

export async function readRunParams(store: ObjectStore, runId: string): Promise<RunParamsFile | undefined> {
  return getJson<RunParamsFile>(store, paramsKey(runId));
}

export async function readModelFile(store: ObjectStore, runId: string): Promise<TextModelFile | undefined> {
  return getJson<TextModelFile>(store, modelKey(runId));
}

export async function writeTestSet(store: ObjectStore, runId: string, docs: readonly LabelledDoc[]): Promise<void> {
  const body = docs.map((d) => JSON.stringify(d)).join('\n') + (docs.length > 0 ? '\n' : '');
  await store.put(testSetKey(runId), gzipSync(body), { contentType: 'application/gzip' });
}

export async function readTestSet(store: ObjectStore, runId: string): Promise<LabelledDoc[] | undefined> {
  const bytes = await store.get(testSetKey(runId));
  if (!bytes) return undefined;
  return gunzipSync(bytes)
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as LabelledDoc);
}

export async function writeSplit(store: ObjectStore, runId: string, split: GroupSplit): Promise<void> {
  await putJson(store, splitKey(runId), split);
}
