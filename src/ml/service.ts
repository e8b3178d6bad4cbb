import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { configSchema, type Config } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import { getJson, listAll, putJson, type ObjectStore } from '../lake/store.ts';
import { countLabelledEvents, labelledDocsFromRaw, loadLabelledDocs, type RawReadStats } from './data.ts';
import { LABELS, type Label, type LabelledDoc } from './labels.ts';
import { calibration } from './calibration.ts';
import { calibrationSummary, crossValidate, type CvOptions, type CvReport } from './cv.ts';
import { computeMetrics, type Metrics } from './metrics.ts';
import {
  chooseRegParam, DEFAULT_MODEL, defaultParams, deserializeModel, MODEL_KINDS, scorer, serializeModel, topWords, trainTextModel, type ModelKind, type ModelParams, type WordImportance,
} from './model.ts';
import {
  cvKey, listRuns, metricsKey, modelKey, newRunId, paramsKey, readModelFile, readRunMetrics, readTestSet, runPrefix, sparkModelPrefix,
  writeSplit, writeTestSet, type Engine, type RunMetricsFile, type RunParamsFile,
} from './runs.ts';
import { EMR_ML_PREFIX, emrMlPrefix, emrTrainStep, rowsFile, sparkPredict, sparkTrain, type SparkRunOptions } from './spark.ts';
import { applySplit, splitByGroup, type GroupSplit } from './split.ts';
import type { JobStepSpec } from '../jobs/runner.ts';
import type { JobRecord } from '../jobs/types.ts';

/**
 * The classifier's services: train a run, evaluate it, ask it about a text. They return data
 * and never print; `openevents ml …` and the demo call them.
 */

/** The demo trains once the curated tables hold at least this many labelled events. */
export const MIN_LABELLED_EVENTS = 200;
/** Top words kept in metrics.json. */
export const TOP_WORDS = 30;
export type TrainParams = ModelParams & { testFraction: number };

/**
 * Model parameters: the model's defaults (defaultParams), then the config's `ml` block, then
 * `overrides`. The forest's settings in the config (trees, depth…) apply to the forest only.
 */
export function paramsFromConfig(ml: Config['ml'], overrides: Partial<TrainParams> = {}): TrainParams {
  const model = overrides.model ?? ml.model ?? DEFAULT_MODEL;
  return {
    ...defaultParams(model),
    ...(ml.vocabularySize !== undefined ? { vocabularySize: ml.vocabularySize } : {}),
    trees: ml.trees,
    maxDepth: ml.maxDepth,
    featuresPerSplit: ml.featuresPerSplit,
    seed: ml.seed,
    testFraction: ml.testFraction,
    ...overrides,
    model,
  };
}

/** True when the curated tables hold enough labelled events to train (MIN_LABELLED_EVENTS). */
export async function hasEnoughLabelledEvents(store: ObjectStore, min = MIN_LABELLED_EVENTS): Promise<boolean> {
  return (await countLabelledEvents(store)) >= min;
}

export interface TrainOptions {
  /** Default 'ts' (embedded). */
  engine?: Engine;
  /** Default: the config schema's `ml` defaults (see paramsFromConfig). */
  params?: TrainParams;
  /** The labelled docs; default: read from the curated tables. */
  docs?: readonly LabelledDoc[];
  now?: () => Date;
  spark?: SparkRunOptions;
  /** The emr engine's cluster: needed when `engine` is 'emr'. */
  emr?: EmrTraining;
}

/** How the emr engine runs its training step: on a cluster, through the EMR job runner (src/emr/service.ts emrTraining). */
export interface EmrTraining {
  /** Runs the step as a job and resolves with its record once it has ended (whatever its state). */
  run: (step: JobStepSpec, runId: string) => Promise<JobRecord>;
}

/**
 * Trains a run: loads the labelled events, splits them by group (seeded, stratified), trains on
 * one side with the chosen engine, scores the other, and writes `models/<run-id>/`. Returns the
 * run's metrics.json. The emr engine runs Spark's training as an EMR step (stageEmrRun, then
 * completeEmrRun once the step has ended); a step that failed is a UserError with its reason.
 */
export async function trainModel(store: ObjectStore, options: TrainOptions = {}): Promise<RunMetricsFile> {
  const engine = options.engine ?? 'ts';
  if (engine === 'emr') {
    if (!options.emr) throw new Error('trainModel: the emr engine needs options.emr');
    const staged = await stageEmrRun(store, options);
    const job = await options.emr.run(staged.step, staged.runId);
    if (job.state !== 'succeeded') {
      await discardEmrRun(store, staged.runId);
      throw new UserError(`the training step on EMR cluster ${job.id} ${job.state}${job.reason ? `: ${job.reason}` : ''}`, {
        hint: `see \`openevents emr status ${job.id}\` and \`openevents emr logs ${job.id}\``,
      });
    }
    return completeEmrRun(store, staged.runId, job);
  }
  const run = await prepareRun(store, engine, options);
  const { train, test, params } = run;
  const started = performance.now();
  let result: TrainResult;
  if (engine === 'ts') {
    const model = trainTextModel(train, params);
    result = { scores: scorer(model)(test.map((d) => d.text)), words: topWords(model, TOP_WORDS), vocabulary: model.vocabulary.terms.length };
    if (model.chosen?.regParam !== undefined) run.params = { ...params, regParam: model.chosen.regParam };
    await putJson(store, modelKey(run.runId), serializeModel(model));
  } else {
    const trained = await sparkTrain(train, test, params, options.spark);
    try {
      result = { scores: test.map((d) => trained.scores.get(d.eventId) ?? Number.NaN), words: trained.topWords.slice(0, TOP_WORDS), vocabulary: trained.vocabulary };
      await uploadFolder(store, trained.modelDir, sparkModelPrefix(run.runId));
    } finally {
      await fs.rm(trained.workDir, { recursive: true, force: true });
    }
  }
  await writeSplit(store, run.runId, run.split);
  await writeTestSet(store, run.runId, test);
  return writeRun(store, { ...run, data: dataCounts(train, test) }, result, (performance.now() - started) / 1000);
}

/** A run about to train: its id, its split, and its parameters (a Spark lr's penalty already chosen). */
interface PreparedRun {
  runId: string;
  engine: Engine;
  /** As asked (params.json). */
  asked: TrainParams;
  /** As fitted (metrics.json): with the chosen penalty. */
  params: TrainParams;
  trainedAt: Date;
  split: GroupSplit;
  train: LabelledDoc[];
  test: LabelledDoc[];
}

interface TrainResult {
  /** P(tech) per test doc, in the test docs' order. */
  scores: ArrayLike<number>;
  words: WordImportance[];
  vocabulary: number;
}

async function prepareRun(store: ObjectStore, engine: Engine, options: TrainOptions): Promise<PreparedRun> {
  const asked = options.params ?? paramsFromConfig(configSchema.parse({}).ml);
  let params = asked;
  if (engine !== 'ts' && params.model === 'ensemble') {
    throw new UserError('the Spark engines train lr, nb and rf; the ensemble is embedded only', { hint: `use --engine ts, or --model lr|nb|rf with --engine ${engine}` });
  }
  const docs = options.docs ?? (await loadLabelledDocs(store));
  checkTrainable(docs);
  const split = splitByGroup(docs, params.testFraction, params.seed);
  const { train, test } = applySplit(docs, split);
  // Spark's penalty is chosen once, here, by the same inner cross-validation, so every engine fits the same model.
  if (engine !== 'ts' && params.model === 'lr' && params.regParam <= 0) params = { ...params, regParam: chooseRegParam(train, params) };
  const trainedAt = (options.now ?? (() => new Date()))();
  return { runId: newRunId(engine, trainedAt), engine, asked, params, trainedAt, split, train, test };
}

/** Writes params.json and, last, metrics.json: from then on the run is listed (listRuns). */
async function writeRun(
  store: ObjectStore,
  run: Pick<PreparedRun, 'runId' | 'engine' | 'asked' | 'params' | 'trainedAt' | 'test'> & { data: RunMetricsFile['data'] },
  result: TrainResult,
  trainSeconds: number,
): Promise<RunMetricsFile> {
  const { runId, engine, params, test } = run;
  if (Array.from(result.scores).some((s) => Number.isNaN(s))) throw new Error(`the ${engine} engine returned no prediction for some test events`);
  const file: RunMetricsFile = {
    runId,
    engine,
    model: params.model,
    trainedAt: run.trainedAt.toISOString(),
    params,
    data: run.data,
    metrics: computeMetrics(test.map((d) => d.label), result.scores),
    calibration: calibrationSummary(calibration(test.map((d) => d.label), result.scores)),
    topWords: result.words,
  };
  const paramsFile: RunParamsFile = { runId, engine, params: run.asked, vocabulary: result.vocabulary, trainSeconds };
  await putJson(store, paramsKey(runId), paramsFile);
  // metrics.json last: a run counts as finished (listRuns) only once it is there.
  await putJson(store, metricsKey(runId), file);
  return file;
}

function dataCounts(train: readonly LabelledDoc[], test: readonly LabelledDoc[]): RunMetricsFile['data'] {
  return { trainRows: train.length, testRows: test.length, trainGroups: new Set(train.map((d) => d.groupId)).size, testGroups: new Set(test.map((d) => d.groupId)).size };
}

/** What a run staged for EMR keeps beside its rows until it is written (`<lake>/_emr/ml/<run>/run.json`). */
interface StagedRunFile {
  runId: string;
  asked: TrainParams;
  params: TrainParams;
  trainedAt: string;
  data: RunMetricsFile['data'];
}

/** A run staged for the EMR engine: its id and the EMR step that trains it. */
export interface StagedRun {
  runId: string;
  step: JobStepSpec;
}

/**
 * Stages a run for Spark on EMR: splits as every engine does, writes the run's split and test set
 * to `models/<run>/`, and the rows ml.py reads to `_emr/ml/<run>/` (the lake must be s3://). The
 * run is not listed until completeEmrRun has written its metrics.
 */
export async function stageEmrRun(store: ObjectStore, options: Omit<TrainOptions, 'engine' | 'emr'> & { dryRun?: boolean } = {}): Promise<StagedRun> {
  if (!store.url.startsWith('s3://')) throw new UserError(`the emr engine needs the lake in S3; the lake is ${store.url}`, { hint: 'set lake to s3://bucket/prefix' });
  const run = await prepareRun(store, 'emr', options);
  const lake = store.url.endsWith('/') ? store.url : `${store.url}/`;
  const step = emrTrainStep(lake, run.runId, sparkModelPrefix(run.runId), run.params);
  if (options.dryRun) return { runId: run.runId, step };
  const staged = emrMlPrefix(run.runId);
  await writeSplit(store, run.runId, run.split);
  await writeTestSet(store, run.runId, run.test);
  await store.put(`${staged}rows.ndjson`, rowsFile(run.train, run.test), { contentType: 'application/x-ndjson' });
  const file: StagedRunFile = { runId: run.runId, asked: run.asked, params: run.params, trainedAt: run.trainedAt.toISOString(), data: dataCounts(run.train, run.test) };
  await putJson(store, `${staged}run.json`, file);
  return { runId: run.runId, step };
}

/** Removes a staged run that will not be trained (its cluster was not started). */
export async function discardEmrRun(store: ObjectStore, runId: string): Promise<void> {
  for (const prefix of [emrMlPrefix(runId), runPrefix(runId)]) for (const info of await listAll(store, prefix)) await store.delete(info.key);
}

/** Runs staged for EMR whose step has written all its outputs (ml.py writes summary.json last), oldest first. */
export async function finishedEmrRuns(store: ObjectStore): Promise<string[]> {
  const ids = [];
  for (const info of await listAll(store, EMR_ML_PREFIX)) {
    const m = /^_emr\/ml\/([^/]+)\/out\/summary\.json$/.exec(info.key);
    if (m) ids.push(m[1]!);
  }
  return ids.sort();
}

/**
 * Writes a staged run from its EMR step's outputs — the model is already in the run's folder —
 * computing its metrics as every engine's are computed, then removes `_emr/ml/<run>/`. `job`
 * (the ended cluster) gives the step's own duration as the training time.
 */
export async function completeEmrRun(store: ObjectStore, runId: string, job?: JobRecord): Promise<RunMetricsFile> {
  const staged = emrMlPrefix(runId);
  const [file, summary, words, predictions, test] = await Promise.all([
    getJson<StagedRunFile>(store, `${staged}run.json`),
    getJson<{ vocabulary: number }>(store, `${staged}out/summary.json`),
    getJson<WordImportance[]>(store, `${staged}out/top_words.json`),
    getJson<Array<{ event_id: string; probability: number }>>(store, `${staged}out/predictions.json`),
    readTestSet(store, runId),
  ]);
  if (!file || !test) throw new UserError(`run ${runId} was not staged for EMR (no ${staged}run.json or test set)`);
  if (!summary || !words || !predictions) {
    throw new UserError(`the EMR training step of run ${runId} has not written its outputs to ${store.url}/${staged}out/`, {
      hint: 'see `openevents emr list` and `openevents emr status <cluster>`: the step may still run, or have failed',
    });
  }
  const byId = new Map(predictions.map((p) => [p.event_id, p.probability]));
  const step = job?.steps.find((s) => s.label === `ml ${runId}`);
  const trainSeconds = step?.startedAt && step.endedAt ? (Date.parse(step.endedAt) - Date.parse(step.startedAt)) / 1000 : (Date.now() - Date.parse(file.trainedAt)) / 1000;
  const run = { runId, engine: 'emr' as const, asked: file.asked, params: file.params, trainedAt: new Date(file.trainedAt), test, data: file.data };
  const written = await writeRun(store, run, { scores: test.map((d) => byId.get(d.eventId) ?? Number.NaN), words: words.slice(0, TOP_WORDS), vocabulary: summary.vocabulary }, trainSeconds);
  for (const info of await listAll(store, staged)) await store.delete(info.key);
  return written;
}

function checkTrainable(docs: readonly LabelledDoc[]): void {
  for (const label of [0, 1] as const) {
    const groups = new Set(docs.filter((d) => d.label === label).map((d) => d.groupId));
    if (groups.size < 2) {
      throw new UserError(
        `not enough labelled events to train: ${LABELS[label]} has ${groups.size} group(s), at least 2 are needed for a split by group (${docs.length} labelled events in all)`,
        { hint: 'ingest more hours and run `openevents etl run` first (the demo trains once enough exist)' },
      );
    }
  }
}

/** The newest finished run, or the given one after checking it exists. */
export async function resolveRun(store: ObjectStore, runId?: string): Promise<string> {
  const runs = await listRuns(store);
  if (runId !== undefined) {
    if (!runs.includes(runId)) {
      throw new UserError(`no run "${runId}" in ${store.url}/models`, { hint: runs.length ? `runs: ${runs.slice(-5).join(', ')}` : 'run `openevents ml train` first' });
    }
    return runId;
  }
  const newest = runs[runs.length - 1];
  if (!newest) throw new UserError(`no trained model in ${store.url}/models`, { hint: 'run `openevents ml train` first' });
  return newest;
}

/** P(tech) for each doc with a run's model (the Spark engine's runs score through Spark). */
export async function scoreDocs(store: ObjectStore, runId: string, docs: readonly LabelledDoc[], spark?: SparkRunOptions): Promise<Float64Array> {
  const metrics = await readRunMetrics(store, runId);
  if (!metrics) throw new UserError(`run ${runId} has no metrics.json`);
  if (docs.length === 0) return new Float64Array(0);
  if (metrics.engine === 'ts') {
    const file = await readModelFile(store, runId);
    if (!file) throw new UserError(`run ${runId} has no model.json`);
    return scorer(deserializeModel(file))(docs.map((d) => d.text));
  }
  const local = store.localPath(sparkModelPrefix(runId));
  if (local !== undefined) return toScores(await sparkPredict(local, docs, spark), docs);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'openevents-ml-model-'));
  try {
    await downloadFolder(store, sparkModelPrefix(runId), dir);
    return toScores(await sparkPredict(dir, docs, spark), docs);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function toScores(byId: Map<string, number>, docs: readonly LabelledDoc[]): Float64Array {
  return Float64Array.from(docs, (d) => byId.get(d.eventId) ?? Number.NaN);
}

/** An evaluation of a run on its test split or on a file of raw events. */
export interface Evaluation {
  runId: string;
  engine: Engine;
  /** 'test-split', or the input file's path. */
  source: string;
  rows: number;
  metrics: Metrics;
  /** For a raw input file: lines read, unparsable, unlabelled, duplicates. */
  read?: RawReadStats;
}

export interface EvaluateOptions {
  runId?: string;
  /** A file of raw open_events NDJSON (plain or gzip); default: the run's own test split. */
  input?: string;
  spark?: SparkRunOptions;
}

/** Scores a run (default the newest) on its test split or on raw events, from its predictions. */
export async function evaluateRun(store: ObjectStore, options: EvaluateOptions = {}): Promise<Evaluation> {
  const runId = await resolveRun(store, options.runId);
  const run = (await readRunMetrics(store, runId))!;
  let docs: LabelledDoc[];
  let read: RawReadStats | undefined;
  if (options.input !== undefined) {
    ({ docs, stats: read } = await readRawDocs(options.input));
  } else {
    const testSet = await readTestSet(store, runId);
    if (!testSet) throw new UserError(`run ${runId} has no test set`);
    docs = testSet;
  }
  const scores = await scoreDocs(store, runId, docs, options.spark);
  return {
    runId,
    engine: run.engine,
    source: options.input ?? 'test-split',
    rows: docs.length,
    metrics: computeMetrics(docs.map((d) => d.label), scores),
    ...(read ? { read } : {}),
  };
}

/** The answer to `ml predict` for one text. */
export interface Prediction {
  label: Label;
  /** Probability of `label`. */
  probability: number;
  probabilities: Record<Label, number>;
}

/** Class and probability from P(tech). */
export function toPrediction(pTech: number): Prediction {
  const label: Label = pTech > 0.5 ? 'tech' : 'outdoors-adventure';
  return { label, probability: label === 'tech' ? pTech : 1 - pTech, probabilities: { 'outdoors-adventure': 1 - pTech, tech: pTech } };
}

/**
 * A predictor bound to a run (default the newest): call it with batches of texts. The embedded
 * engine's model is loaded once; a Spark run scores each batch through Spark (a JVM start each).
 */
export async function predictor(
  store: ObjectStore,
  options: { runId?: string; spark?: SparkRunOptions } = {},
): Promise<{ runId: string; predict: (texts: readonly string[]) => Promise<Prediction[]> }> {
  const runId = await resolveRun(store, options.runId);
  const metrics = await readRunMetrics(store, runId);
  if (metrics?.engine === 'ts') {
    const file = await readModelFile(store, runId);
    if (!file) throw new UserError(`run ${runId} has no model.json`);
    const score = scorer(deserializeModel(file));
    return { runId, predict: async (texts) => Array.from(score(texts), toPrediction) };
  }
  return {
    runId,
    predict: async (texts) => {
      const docs = texts.map((text, i) => ({ eventId: String(i), groupId: 0, label: 0 as const, text }));
      return Array.from(await scoreDocs(store, runId, docs, options.spark), toPrediction);
    },
  };
}

/** Classifies one text with a run (default the newest). */
export async function predictText(store: ObjectStore, text: string, options: { runId?: string; spark?: SparkRunOptions } = {}): Promise<Prediction & { runId: string }> {
  const { runId, predict } = await predictor(store, options);
  const [prediction] = await predict([text]);
  return { runId, ...prediction! };
}

export interface CrossValidateOptions extends CvOptions {
  /** Models to compare (default: every model). */
  models?: readonly ModelKind[];
  /** Parameters besides the model's defaults (from the config / flags). */
  params?: (model: ModelKind) => ModelParams;
  /** Raw open_events NDJSON (plain or gzip) instead of the curated tables. */
  input?: string;
  now?: () => Date;
}

/**
 * Cross-validates models on the lake's labelled events (or a raw file): group k-fold or leave one
 * region out. Writes the result to models/_cv/<id>.json (the report shows the newest) and returns it.
 */
export async function crossValidateModels(store: ObjectStore, options: CrossValidateOptions): Promise<CvReport> {
  const docs = options.input !== undefined ? (await readRawDocs(options.input)).docs : await loadLabelledDocs(store);
  checkTrainable(docs);
  const models = options.models ?? MODEL_KINDS;
  const params = options.params ?? ((model: ModelKind) => defaultParams(model));
  let result;
  try {
    result = crossValidate(docs, models.map(params), options);
  } catch (error) {
    throw new UserError(error instanceof Error ? error.message : String(error), {
      hint: options.scheme === 'region' ? 'regions are group states (else countries); lower --min-region-events, or use --cv group' : 'load more labelled events',
    });
  }
  const now = (options.now ?? (() => new Date()))();
  const id = `${newRunId('ts', now).replace(/-ts$/, '')}-${options.scheme}`;
  const report: CvReport = { id, createdAt: now.toISOString(), source: options.input ?? 'curated', ...result };
  await putJson(store, cvKey(id), report);
  return report;
}

async function readRawDocs(input: string): Promise<{ docs: LabelledDoc[]; stats: RawReadStats }> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(input);
  } catch (error) {
    throw new UserError(`cannot read ${input}`, { cause: error, hint: 'pass a file of raw open_events lines (NDJSON, plain or gzip)' });
  }
  const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
  const read = labelledDocsFromRaw(text);
  if (read.docs.length === 0) {
    throw new UserError(`${input} holds no events of outdoors-adventure (23) or tech (34) groups (${read.stats.lines} lines read)`);
  }
  return read;
}

/** Copies a local folder's files into the store under `prefix` (Spark's checksum files skipped). */
async function uploadFolder(store: ObjectStore, dir: string, prefix: string): Promise<void> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || entry.name.startsWith('.')) continue;
    const file = path.join(entry.parentPath, entry.name);
    const key = prefix + path.relative(dir, file).split(path.sep).join('/');
    await store.put(key, await fs.readFile(file));
  }
}

async function downloadFolder(store: ObjectStore, prefix: string, dir: string): Promise<void> {
  for (const info of await listAll(store, prefix)) {
    if (info.key.endsWith('/')) continue; // a folder marker (s3a writes them)
    const bytes = await store.get(info.key);
    if (!bytes) continue;
    const file = path.join(dir, ...info.key.slice(prefix.length).split('/'));
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, bytes);
  }
}
