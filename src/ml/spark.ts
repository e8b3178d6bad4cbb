import { promises as fs } from 'node:fs';
import type { JobStepSpec } from '../jobs/runner.ts';
import { EMR_CODE_DIR, emrSparkStep, runSparkSubmit } from '../jobs/spark-submit.ts';
import os from 'node:os';
import path from 'node:path';
import type { LabelledDoc } from './labels.ts';
import type { ModelParams, WordImportance } from './model.ts';
import { STOPWORDS_DIR } from './text.ts';

/**
 * The Spark engine: runs spark/jobs/ml.py with the project's spark-submit on local[*] (launched,
 * as every Spark job, by src/jobs/spark-submit.ts). Rows go
 * to the job as NDJSON with the split already decided (so both engines see the same split);
 * predictions, top words and the fitted PipelineModel come back in an output folder.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
/** The job script. */
export const ML_JOB = path.join(ROOT, 'spark/jobs/ml.py');

export interface SparkRunOptions {
  /** spark-submit to use (default: the project's .venv/bin/spark-submit, or SPARK_SUBMIT). */
  sparkSubmit?: string;
  /** Spark master (default local[*]). */
  master?: string;
  signal?: AbortSignal;
}

/** What a Spark training run returns; `workDir` holds `model/` and is the caller's to remove. */
export interface SparkTrainResult {
  /** P(tech) per test event id. */
  scores: Map<string, number>;
  topWords: WordImportance[];
  vocabulary: number;
  workDir: string;
  modelDir: string;
}

/**
 * Trains the Spark pipeline of `params.model` (rf, lr or nb) on `train`, scores `test`. For lr the
 * penalty must be chosen already (regParam > 0): the caller's inner cross-validation picks it.
 */
export async function sparkTrain(
  train: readonly LabelledDoc[],
  test: readonly LabelledDoc[],
  params: ModelParams,
  options: SparkRunOptions = {},
): Promise<SparkTrainResult> {
  if (params.model === 'ensemble') throw new Error('the Spark engine has no ensemble (lr, nb, rf)');
  if (params.model === 'lr' && !(params.regParam > 0)) throw new Error('sparkTrain: choose the lr penalty first (regParam > 0)');
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'openevents-ml-spark-'));
  const input = path.join(workDir, 'rows.ndjson');
  await fs.writeFile(input, rowsFile(train, test));
  const output = path.join(workDir, 'out');
  await runJob(trainArgs({ input, output, stopwords: STOPWORDS_DIR }, params), options);
  const summary = JSON.parse(await fs.readFile(path.join(output, 'summary.json'), 'utf8')) as { vocabulary: number };
  return {
    scores: await readPredictions(path.join(output, 'predictions.json')),
    topWords: JSON.parse(await fs.readFile(path.join(output, 'top_words.json'), 'utf8')) as WordImportance[],
    vocabulary: summary.vocabulary,
    workDir,
    modelDir: path.join(output, 'model'),
  };
}

/** Scores docs with a saved Spark PipelineModel (a local folder); P(tech) per event id. */
export async function sparkPredict(modelDir: string, docs: readonly LabelledDoc[], options: SparkRunOptions = {}): Promise<Map<string, number>> {
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'openevents-ml-spark-'));
  try {
    const input = path.join(workDir, 'rows.ndjson');
    await fs.writeFile(input, rowsFile([], docs));
    const output = path.join(workDir, 'out');
    await runJob(['predict', '--model', modelDir, '--input', input, '--output', output], options);
    return await readPredictions(path.join(output, 'predictions.json'));
  } finally {
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

/** ml.py's `train` arguments: where its rows, outputs and stop words are (local paths or s3:// URIs), and the model's parameters. */
export function trainArgs(where: { input: string; output: string; stopwords: string; modelDir?: string }, params: ModelParams): string[] {
  return [
    'train', '--input', where.input, '--output', where.output, ...(where.modelDir ? ['--model-dir', where.modelDir] : []),
    '--stopwords-dir', where.stopwords, '--model', params.model,
    '--vocabulary', String(params.vocabularySize), '--min-df', String(params.minDf), '--ngrams', String(params.ngrams),
    '--reg-param', String(params.regParam), '--smoothing', String(params.smoothing), '--trees', String(params.trees),
    '--max-depth', String(params.maxDepth), '--features-per-split', String(params.featuresPerSplit),
    '--seed', String(params.seed), '--max-bins', String(params.maxBins),
  ];
}

/** The rows file ml.py reads: one JSON object a line, each with its side of the split. */
export function rowsFile(train: readonly LabelledDoc[], test: readonly LabelledDoc[]): string {
  const rows = [...train.map((d) => ({ d, split: 'train' })), ...test.map((d) => ({ d, split: 'test' }))];
  return rows.map(({ d, split }) => JSON.stringify({ event_id: d.eventId, group_id: d.groupId, label: d.label, text: d.text, split })).join('\n') + '\n';
}

/** Where a run trained on EMR keeps its rows and the job's outputs in the lake until the run is written (`<lake>/_emr/ml/<run>/`). */
export const EMR_ML_PREFIX = '_emr/ml/';
export const emrMlPrefix = (runId: string): string => `${EMR_ML_PREFIX}${runId}/`;

/**
 * The EMR step of a training run: spark-submit of ml.py from the cluster's code bundle with the
 * arguments `ml train --engine spark` gives it, but reading its rows from the lake and writing
 * its outputs beside them and the model straight into the run's folder (`modelPrefix`) — where
 * `ml evaluate`, `ml predict` and the report read a run's Spark model.
 */
export function emrTrainStep(lake: string, runId: string, modelPrefix: string, params: ModelParams): JobStepSpec {
  const staged = `${lake}${emrMlPrefix(runId)}`;
  const where = { input: `${staged}rows.ndjson`, output: `${staged}out`, modelDir: `${lake}${modelPrefix.replace(/\/$/, '')}`, stopwords: `${EMR_CODE_DIR}/src/ml/stopwords` };
  return { label: `ml ${runId}`, argv: emrSparkStep('spark/jobs/ml.py', trainArgs(where, params)) };
}

async function readPredictions(file: string): Promise<Map<string, number>> {
  const rows = JSON.parse(await fs.readFile(file, 'utf8')) as Array<{ event_id: string; probability: number }>;
  return new Map(rows.map((r) => [r.event_id, r.probability]));
}

/** Runs spark/jobs/ml.py through the toolkit's one spark-submit launcher (src/jobs/spark-submit.ts). */
async function runJob(args: string[], options: SparkRunOptions): Promise<void> {
  const result = await runSparkSubmit(
    { script: ML_JOB, args, ...(options.master ? { master: options.master } : {}), conf: { 'spark.sql.shuffle.partitions': '8' } },
    { ...(options.sparkSubmit ? { sparkSubmit: options.sparkSubmit } : {}), ...(options.signal ? { signal: options.signal } : {}) },
  );
  if (result.stopped) throw new Error('spark job stopped');
  if (result.code !== 0) {
    const tail = result.stderr.split('\n').filter((l) => !/ (INFO|WARN) /.test(l)).slice(-15).join('\n');
    throw new Error(`spark ml job failed (exit ${result.code}):\n${tail}`);
  }
}
