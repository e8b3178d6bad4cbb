import { trainNaiveBayes } from './bayes.ts';
import { applyPlatt, fitPlatt, IDENTITY, shortness, type Platt } from './calibration.ts';
import { trainForest, predictForest, type Forest } from './forest.ts';
import { DEFAULT_MODEL, MODEL_KINDS, type Label, type LabelledDoc, type ModelKind } from './labels.ts';
import { margins, trainLogistic, type LinearModel } from './linear.ts';
import { groupFolds } from './split.ts';
import { nameOf, tokenize } from './text.ts';
import { fitTransform, pairIndex, RAW_TFIDF, termIndex, transformTokens, type Fitted, type SparseRows, type Vocabulary, type Weighting } from './tfidf.ts';

/**
 * The text classifiers, one interface: train on labelled docs, score texts with P(tech).
 *
 * - `lr` (the default): logistic regression, L2, on sublinear TF-IDF of words and word pairs,
 *   rows of unit length; classes weighted equally (a new city's class mix is unknown); the
 *   penalty chosen by an inner group-split cross-validation on the training docs; probabilities
 *   calibrated by Platt scaling on the same inner folds' out-of-fold scores.
 * - `nb`: multinomial naive Bayes on the same features, calibrated the same way.
 * - `ensemble`: the mean of the calibrated `lr` and `nb` probabilities.
 * - `rf`: the original system's random forest on raw TF-IDF of words (src/ml/forest.ts).
 *
 * Which wins on real text across regions is measured, not assumed: docs/ml.md, `ml evaluate --cv`.
 * The kinds and the default are in labels.ts (the CLI reads them without loading the models).
 */
export { DEFAULT_MODEL, MODEL_KINDS, type ModelKind };

/** Hyper-parameters of the text classifier (both engines read the same ones). */
export interface ModelParams {
  model: ModelKind;
  /** Vocabulary size (terms by document frequency). */
  vocabularySize: number;
  /** Minimum document frequency of a term. */
  minDf: number;
  /** 1: words; 2: words and pairs of consecutive words (after stop words). */
  ngrams: 1 | 2;
  /** rf: trees in the forest. */
  trees: number;
  /** rf: maximum tree depth. */
  maxDepth: number;
  /** rf: features tried per split; 0 means ceil(sqrt(vocabulary)). */
  featuresPerSplit: number;
  /** rf: histogram bins per feature (Spark's maxBins). */
  maxBins: number;
  /** lr: λ of the L2 penalty (Spark's regParam); 0 = choose from REG_GRID by inner cross-validation. */
  regParam: number;
  /** nb: additive (Laplace) smoothing. */
  smoothing: number;
  /** lr/nb/ensemble: Platt-scale the probabilities on inner out-of-fold scores. */
  calibrate: boolean;
  seed: number;
}

/**
 * Candidate penalties for `regParam: 0`, a decade apart, fixed a priori: from nearly unpenalised
 * (1e-6: on a few thousand texts, near-separable data would otherwise fit noise) to strong (1e-3).
 */
export const REG_GRID = [1e-6, 1e-5, 1e-4, 1e-3] as const;
/** Folds of the inner cross-validation (penalty choice and calibration). */
export const INNER_FOLDS = 3;

/** Each model's default parameters, fixed a priori (conventional values for each method). */
export function defaultParams(model: ModelKind = DEFAULT_MODEL): ModelParams {
  const common = { trees: 100, maxDepth: 20, featuresPerSplit: 0, maxBins: 32, regParam: 0, smoothing: 1, seed: 42 };
  if (model === 'rf') return { ...common, model, vocabularySize: 2000, minDf: 3, ngrams: 1, calibrate: false };
  return { ...common, model, vocabularySize: 20_000, minDf: 2, ngrams: 2, calibrate: true };
}

/** The features a model of `kind` reads: sublinear, unit-length TF-IDF for the linear models, raw TF-IDF for the forest. */
export function weightingOf(kind: ModelKind): Weighting {
  return kind === 'rf' ? RAW_TFIDF : { sublinear: true, normalize: true };
}

/** A linear part of a model with its calibration. */
export interface CalibratedLinear {
  kind: 'lr' | 'nb';
  linear: LinearModel;
  platt: Platt;
}

/** The embedded model: features (vocabulary, IDF, weighting) and the classifier. */
export interface TextModel {
  kind: ModelKind;
  ngrams: 1 | 2;
  weighting: Weighting;
  vocabulary: Vocabulary;
  /** rf only. */
  forest?: Forest;
  /** lr: [lr]; nb: [nb]; ensemble: [lr, nb]. */
  parts?: CalibratedLinear[];
  /** What training chose (the penalty, when it was chosen by inner cross-validation). */
  chosen?: { regParam?: number };
}

/** A word and its weight in the model: the forest's importance, or a linear model's |weight| share. */
export interface WordImportance {
  word: string;
  importance: number;
  /** The class the word points to (linear models). */
  points?: Label;
}

/** The vocabulary fitted on training docs, and their rows. */
function featurise(docs: readonly LabelledDoc[], params: ModelParams, weighting: Weighting): Fitted {
  return fitTransform(docs.map((d) => tokenize(d.text)), params.ngrams, { size: params.vocabularySize, minDf: params.minDf }, weighting);
}

/** Rows of texts on a fitted vocabulary. */
function rowsOf(vocabulary: Vocabulary, texts: readonly string[], ngrams: 1 | 2, weighting: Weighting): SparseRows {
  return transformTokens(vocabulary, texts.map((t) => tokenize(t)), termIndex(vocabulary), ngrams === 2 ? pairIndex(vocabulary) : undefined, weighting);
}

/** Trains a model on labelled docs. Deterministic for a given seed. */
export function trainTextModel(docs: readonly LabelledDoc[], params: ModelParams): TextModel {
  const weighting = weightingOf(params.model);
  const { vocabulary, rows: x } = featurise(docs, params, weighting);
  const y = Uint8Array.from(docs, (d) => d.label);
  const base = { kind: params.model, ngrams: params.ngrams, weighting, vocabulary };
  if (params.model === 'rf') {
    const forest = trainForest(x, y, {
      trees: params.trees,
      maxDepth: params.maxDepth,
      featuresPerSplit: params.featuresPerSplit,
      seed: params.seed,
      maxBins: params.maxBins,
    });
    return { ...base, forest };
  }
  const names = rowsOf(vocabulary, docs.map((d) => nameOf(d.text)), params.ngrams, weighting);
  const fit = linearFitter(x, y, docs, params, names);
  const kinds: Array<'lr' | 'nb'> = params.model === 'ensemble' ? ['lr', 'nb'] : [params.model];
  const chosen: { regParam?: number } = {};
  const parts = kinds.map((kind) => {
    const result = fit(kind);
    if (kind === 'lr') chosen.regParam = result.regParam;
    return { kind, linear: result.linear, platt: result.platt };
  });
  return { ...base, parts, chosen };
}

/**
 * The penalty the inner cross-validation picks for logistic regression on these docs (what
 * `trainTextModel` would choose), for an engine that fits the model itself (Spark).
 */
export function chooseRegParam(docs: readonly LabelledDoc[], params: ModelParams): number {
  const x = featurise(docs, params, weightingOf('lr')).rows;
  return linearFitter(x, Uint8Array.from(docs, (d) => d.label), docs, { ...params, calibrate: false }, x)('lr').regParam!;
}

/**
 * Fits the linear parts. The inner cross-validation (INNER_FOLDS group folds of the training
 * docs, on the outer vocabulary) scores each candidate penalty by balanced log loss of its
 * out-of-fold predictions, and the winner's out-of-fold margins — of the full texts and of the
 * event names alone (`names`, row for row) — fit the calibration (calibration.ts).
 */
function linearFitter(x: SparseRows, y: Uint8Array, docs: readonly LabelledDoc[], params: ModelParams, names: SparseRows) {
  const weights = balancedWeights(y);
  const needInner = params.calibrate || params.regParam <= 0;
  const folds = needInner ? groupFolds(docs, INNER_FOLDS, params.seed) : undefined;
  const inner = folds ? innerSplits(x, y, folds, names) : [];
  // A fold can lack a class on tiny data; then there is nothing to learn from it.
  const usable = inner.filter((s) => s.hasBothClasses);
  return (kind: 'lr' | 'nb'): { linear: LinearModel; platt: Platt; regParam?: number } => {
    const fitOn = (rows: SparseRows, labels: Uint8Array, w: Float64Array, lambda: number, start?: LinearModel): LinearModel =>
      kind === 'lr' ? trainLogistic(rows, labels, { regParam: lambda }, w, start) : trainNaiveBayes(rows, labels, params.smoothing, w);
    // Strongest penalty first: each fold's solution warm-starts the next, weaker one (a regularisation path).
    const candidates = kind === 'lr' && params.regParam <= 0 ? [...REG_GRID].sort((a, b) => b - a) : [params.regParam];
    const previous = new Map<InnerSplit, LinearModel>();
    let best = { lambda: candidates[0]!, loss: Number.POSITIVE_INFINITY, oof: new Float64Array(0), oofNames: new Float64Array(0), models: [] as LinearModel[] };
    if (usable.length > 0 && (candidates.length > 1 || params.calibrate)) {
      for (const lambda of candidates) {
        const oof = new Float64Array(y.length);
        const oofNames = new Float64Array(y.length);
        const models: LinearModel[] = [];
        for (const s of usable) {
          const model = fitOn(s.train, s.trainLabels, s.trainWeights, lambda, previous.get(s));
          previous.set(s, model);
          models.push(model);
          const m = margins(s.test, model.weights, model.bias, new Float64Array(s.test.rows));
          const mn = params.calibrate ? margins(s.testNames, model.weights, model.bias, new Float64Array(s.test.rows)) : m;
          s.testRows.forEach((row, i) => {
            oof[row] = m[i]!;
            oofNames[row] = mn[i]!;
          });
        }
        const loss = weightedLogLoss(oof, y, weights, usable);
        if (loss < best.loss - 1e-9) best = { lambda, loss, oof, oofNames, models };
      }
    }
    // The folds' solutions at the chosen penalty, averaged, start the final fit near its optimum.
    const linear = fitOn(x, y, weights, best.lambda, kind === 'lr' ? meanModel(best.models) : undefined);
    let platt = IDENTITY;
    if (params.calibrate && best.oof.length > 0) {
      // Full texts and names alone, each set weighing as much as the other, classes balanced.
      const rows = usable.flatMap((s) => s.testRows);
      const termsOf = (m: SparseRows, r: number): number => m.rowPtr[r + 1]! - m.rowPtr[r]!;
      platt = fitPlatt(
        [...rows.map((r) => best.oof[r]!), ...rows.map((r) => best.oofNames[r]!)],
        [...rows.map((r) => shortness(termsOf(x, r))), ...rows.map((r) => shortness(termsOf(names, r)))],
        [...rows.map((r) => y[r]!), ...rows.map((r) => y[r]!)],
        [...rows.map((r) => weights[r]!), ...rows.map((r) => weights[r]!)],
      );
    }
    return { linear, platt, ...(kind === 'lr' ? { regParam: best.lambda } : {}) };
  };
}

/** Row weights giving each class half the total weight (sum = rows). */
export function balancedWeights(y: Uint8Array): Float64Array {
  let ones = 0;
  for (const v of y) ones += v;
  const zeros = y.length - ones;
  return Float64Array.from(y, (v) => (v === 1 ? y.length / (2 * Math.max(1, ones)) : y.length / (2 * Math.max(1, zeros))));
}

interface InnerSplit {
  train: SparseRows;
  trainLabels: Uint8Array;
  trainWeights: Float64Array;
  test: SparseRows;
  /** The test rows' event names alone (calibration). */
  testNames: SparseRows;
  testRows: number[];
  hasBothClasses: boolean;
}

function innerSplits(x: SparseRows, y: Uint8Array, folds: Int32Array, names: SparseRows): InnerSplit[] {
  const out: InnerSplit[] = [];
  for (let f = 0; f < INNER_FOLDS; f++) {
    const trainRows: number[] = [];
    const testRows: number[] = [];
    folds.forEach((fold, r) => (fold === f ? testRows : trainRows).push(r));
    if (testRows.length === 0 || trainRows.length === 0) continue;
    const trainLabels = Uint8Array.from(trainRows, (r) => y[r]!);
    const ones = trainLabels.reduce((a, b) => a + b, 0);
    out.push({
      train: selectRows(x, trainRows),
      trainLabels,
      trainWeights: balancedWeights(trainLabels),
      test: selectRows(x, testRows),
      testNames: selectRows(names, testRows),
      testRows,
      hasBothClasses: ones > 0 && ones < trainLabels.length,
    });
  }
  return out;
}

/** The mean of linear models (undefined for none). */
function meanModel(models: readonly LinearModel[]): LinearModel | undefined {
  if (models.length === 0) return undefined;
  const weights = new Float64Array(models[0]!.weights.length);
  let bias = 0;
  for (const m of models) {
    for (let j = 0; j < weights.length; j++) weights[j]! += m.weights[j]! / models.length;
    bias += m.bias / models.length;
  }
  return { weights, bias };
}

function weightedLogLoss(margin: Float64Array, y: Uint8Array, weights: Float64Array, splits: InnerSplit[]): number {
  let loss = 0;
  let total = 0;
  for (const s of splits) {
    for (const r of s.testRows) {
      const z = y[r] === 1 ? -margin[r]! : margin[r]!;
      loss += weights[r]! * (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
      total += weights[r]!;
    }
  }
  return total > 0 ? loss / total : Number.POSITIVE_INFINITY;
}

/** The given rows of a sparse matrix, in that order. */
export function selectRows(x: SparseRows, rows: readonly number[]): SparseRows {
  let nnz = 0;
  for (const r of rows) nnz += x.rowPtr[r + 1]! - x.rowPtr[r]!;
  const rowPtr = new Int32Array(rows.length + 1);
  const colIdx = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let at = 0;
  rows.forEach((r, i) => {
    const from = x.rowPtr[r]!;
    const to = x.rowPtr[r + 1]!;
    colIdx.set(x.colIdx.subarray(from, to), at);
    values.set(x.values.subarray(from, to), at);
    at += to - from;
    rowPtr[i + 1] = at;
  });
  return { rows: rows.length, cols: x.cols, rowPtr, colIdx, values };
}

/** A scorer bound to a model: P(tech) per text. Build once, call many times. */
export function scorer(model: TextModel): (texts: readonly string[]) => Float64Array {
  const index = termIndex(model.vocabulary);
  const pairs = model.ngrams === 2 ? pairIndex(model.vocabulary) : undefined;
  return (texts) => {
    const x = transformTokens(model.vocabulary, texts.map((t) => tokenize(t)), index, pairs, model.weighting);
    if (model.forest) return predictForest(model.forest, x);
    const parts = model.parts ?? [];
    const out = new Float64Array(x.rows);
    const m = new Float64Array(x.rows);
    for (const part of parts) {
      margins(x, part.linear.weights, part.linear.bias, m);
      for (let r = 0; r < x.rows; r++) out[r]! += applyPlatt(part.platt, m[r]!, shortness(x.rowPtr[r + 1]! - x.rowPtr[r]!)) / parts.length;
    }
    return out;
  };
}

/** The `n` words that weigh most: the forest's importance, or the first linear part's largest |weight| (either class). */
export function topWords(model: TextModel, n = 20): WordImportance[] {
  const terms = model.vocabulary.terms;
  if (model.forest) {
    return [...model.forest.importance]
      .map((importance, i) => ({ word: terms[i]!, importance }))
      .filter((w) => w.importance > 0)
      .sort((a, b) => b.importance - a.importance || (a.word < b.word ? -1 : 1))
      .slice(0, n);
  }
  const w = model.parts?.[0]?.linear.weights ?? new Float64Array(0);
  let total = 0;
  for (const v of w) total += Math.abs(v);
  return Array.from(w, (v, i) => ({ word: terms[i]!, importance: total > 0 ? Math.abs(v) / total : 0, points: (v > 0 ? 'tech' : 'outdoors-adventure') as Label }))
    .filter((x) => x.importance > 0)
    .sort((a, b) => b.importance - a.importance || (a.word < b.word ? -1 : 1))
    .slice(0, n);
}

/** Serialised form of a TextModel (typed arrays as base64): model.json of a run. */
export interface TextModelFile {
  format: 'openevents-text-model/2';
  kind: ModelKind;
  ngrams: 1 | 2;
  weighting: Weighting;
  terms: string[];
  idf: string;
  forest?: ForestFile;
  parts?: Array<{ kind: 'lr' | 'nb'; weights: string; bias: number; platt: Platt }>;
  chosen?: { regParam?: number };
}

type ForestFile = { features: number } & Record<'roots' | 'feature' | 'threshold' | 'left' | 'right' | 'value' | 'importance', string>;

/** model.json of runs before the linear models (a forest only). */
interface ForestModelFileV1 {
  format: 'openevents-tfidf-rf/1';
  terms: string[];
  idf: string;
  forest: ForestFile;
}

const b64 = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

function fromB64<T>(s: string, make: new (buffer: ArrayBuffer) => T): T {
  const bytes = Buffer.from(s, 'base64');
  return new make(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export function serializeModel(model: TextModel): TextModelFile {
  const f = model.forest;
  return {
    format: 'openevents-text-model/2',
    kind: model.kind,
    ngrams: model.ngrams,
    weighting: model.weighting,
    terms: model.vocabulary.terms,
    idf: b64(model.vocabulary.idf),
    ...(f
      ? {
          forest: {
            features: f.features,
            roots: b64(f.roots),
            feature: b64(f.feature),
            threshold: b64(f.threshold),
            left: b64(f.left),
            right: b64(f.right),
            value: b64(f.value),
            importance: b64(f.importance),
          },
        }
      : {}),
    ...(model.parts ? { parts: model.parts.map((p) => ({ kind: p.kind, weights: b64(p.linear.weights), bias: p.linear.bias, platt: p.platt })) } : {}),
    ...(model.chosen ? { chosen: model.chosen } : {}),
  };
}

export function deserializeModel(file: TextModelFile | ForestModelFileV1): TextModel {
  if (file.format === 'openevents-tfidf-rf/1') {
    return { kind: 'rf', ngrams: 1, weighting: RAW_TFIDF, vocabulary: { terms: file.terms, idf: fromB64(file.idf, Float64Array) }, forest: forestFrom(file.forest) };
  }
  if (file.format !== 'openevents-text-model/2') throw new Error(`unknown model format ${String((file as { format?: unknown }).format)}`);
  return {
    kind: file.kind,
    ngrams: file.ngrams,
    weighting: file.weighting,
    vocabulary: { terms: file.terms, idf: fromB64(file.idf, Float64Array) },
    ...(file.forest ? { forest: forestFrom(file.forest) } : {}),
    ...(file.parts ? { parts: file.parts.map((p) => ({ kind: p.kind, linear: { weights: fromB64(p.weights, Float64Array), bias: p.bias }, platt: p.platt })) } : {}),
    ...(file.chosen ? { chosen: file.chosen } : {}),
  };
}

function forestFrom(f: ForestFile): Forest {
  return {
    features: f.features,
    roots: fromB64(f.roots, Int32Array),
    feature: fromB64(f.feature, Int32Array),
    threshold: fromB64(f.threshold, Float32Array),
    left: fromB64(f.left, Int32Array),
    right: fromB64(f.right, Int32Array),
    value: fromB64(f.value, Float32Array),
    importance: fromB64(f.importance, Float64Array),
  };
}
