import { calibration, type Calibration } from './calibration.ts';
import { LABELS, type Label, type LabelledDoc } from './labels.ts';
import { computeMetrics, type Metrics } from './metrics.ts';
import { scorer, trainTextModel, type ModelKind, type ModelParams } from './model.ts';
import { groupFolds } from './split.ts';
import { nameOf } from './text.ts';

/**
 * Cross-validation on labelled docs, the honest way for text from groups and places:
 *
 * - `group`: stratified group k-fold — no group's events on both sides of a fold;
 * - `region`: leave one region out — train on every other region, score the one left out (a
 *   city the model never saw). Regions with fewer than `minRegionEvents` events, or without both
 *   classes, are never left out; they always train.
 *
 * Every fold trains from scratch (vocabulary, IDF, inner penalty choice and calibration on its own
 * training side only) and is scored from its predictions: accuracy, per-class F1, ROC AUC, and
 * calibration (Brier, log loss, ECE). The spread over folds is reported, and the pooled
 * out-of-fold predictions give one reliability table. Each held-out event is also scored on its
 * name alone: a few words, as people type into `ml predict`.
 */
export type CvScheme = 'region' | 'group';

export interface CvOptions {
  scheme: CvScheme;
  /** group: folds (default 5). */
  folds?: number;
  /** region: smaller regions always train (default 100). */
  minRegionEvents?: number;
  /** Seed of the group folds (default 42). */
  seed?: number;
  /** Called after each fold (progress). */
  onFold?: (model: ModelKind, fold: FoldResult, index: number, total: number) => void;
}

/** Mean, standard deviation (sample, n − 1), min and max over folds. */
export interface Spread {
  mean: number;
  std: number;
  min: number;
  max: number;
}

/** Calibration without its table. */
export type CalibrationSummary = Omit<Calibration, 'reliability'>;

export interface FoldResult {
  /** The region left out, or "fold k". */
  fold: string;
  trainRows: number;
  testRows: number;
  testGroups: number;
  metrics: Metrics;
  calibration: CalibrationSummary;
  /** The held-out events scored on their names alone. */
  names: { accuracy: number; calibration: CalibrationSummary };
  trainSeconds: number;
  /** The penalty the inner cross-validation chose (lr, ensemble). */
  regParam?: number;
}

export interface ModelCv {
  model: ModelKind;
  params: ModelParams;
  folds: FoldResult[];
  /** Spread over folds. */
  summary: {
    accuracy: Spread;
    rocAuc: Spread;
    f1: Record<Label, Spread>;
    brier: Spread;
    ece: Spread;
    namesAccuracy: Spread;
    namesEce: Spread;
    trainSeconds: Spread;
  };
  /** All out-of-fold predictions together. */
  pooled: { metrics: Metrics; calibration: Calibration; names: Calibration };
}

/** The result of `ml evaluate --cv`, kept in the lake as models/_cv/<id>.json (the report shows the newest). */
export interface CvReport {
  id: string;
  createdAt: string;
  scheme: CvScheme;
  /** Where the docs came from: 'curated' or the input file. */
  source: string;
  rows: number;
  groups: number;
  /** Events and groups per region. */
  regions: Record<string, { events: number; groups: number }>;
  /** The folds' names, in order. */
  folds: string[];
  models: ModelCv[];
  /** The model with the best mean accuracy. */
  best: ModelKind;
}

/** One fold's held-out rows (indices into docs), by name. */
export interface Fold {
  name: string;
  test: number[];
}

/** The folds of a scheme over `docs`. */
export function makeFolds(docs: readonly LabelledDoc[], options: CvOptions): Fold[] {
  if (options.scheme === 'group') {
    const k = options.folds ?? 5;
    const foldOf = groupFolds(docs, k, options.seed ?? 42);
    return Array.from({ length: k }, (_, f) => ({ name: `fold ${f + 1}`, test: docs.flatMap((_, i) => (foldOf[i] === f ? [i] : [])) })).filter(
      (f) => f.test.length > 0,
    );
  }
  const minEvents = options.minRegionEvents ?? 100;
  const byRegion = new Map<string, number[]>();
  docs.forEach((d, i) => {
    const region = d.region ?? '?';
    byRegion.set(region, [...(byRegion.get(region) ?? []), i]);
  });
  return [...byRegion.entries()]
    .filter(([region, rows]) => region !== '?' && rows.length >= minEvents && new Set(rows.map((i) => docs[i]!.label)).size === 2)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([name, test]) => ({ name, test }));
}

/** Cross-validates each model's params over the same folds. */
export function crossValidate(docs: readonly LabelledDoc[], models: readonly ModelParams[], options: CvOptions): Omit<CvReport, 'id' | 'createdAt' | 'source'> {
  const folds = makeFolds(docs, options);
  if (folds.length < 2) {
    throw new Error(
      options.scheme === 'region'
        ? `leave-one-region-out needs at least two regions with both classes and ${options.minRegionEvents ?? 100}+ events (found ${folds.map((f) => f.name).join(', ') || 'none'})`
        : 'group k-fold needs at least two folds with events',
    );
  }
  const names = docs.map((d) => nameOf(d.text));
  const results: ModelCv[] = [];
  for (const params of models) {
    const foldResults: FoldResult[] = [];
    const oof = new Float64Array(docs.length).fill(Number.NaN);
    const oofNames = new Float64Array(docs.length).fill(Number.NaN);
    for (const [index, fold] of folds.entries()) {
      const held = new Set(fold.test);
      const train = docs.filter((_, i) => !held.has(i));
      const test = fold.test.map((i) => docs[i]!);
      const started = performance.now();
      const model = trainTextModel(train, params);
      const trainSeconds = (performance.now() - started) / 1000;
      const score = scorer(model);
      const scores = score(test.map((d) => d.text));
      const nameScores = score(fold.test.map((i) => names[i]!));
      fold.test.forEach((row, i) => {
        oof[row] = scores[i]!;
        oofNames[row] = nameScores[i]!;
      });
      const labels = test.map((d) => d.label);
      const nameMetrics = computeMetrics(labels, nameScores);
      const result: FoldResult = {
        fold: fold.name,
        trainRows: train.length,
        testRows: test.length,
        testGroups: new Set(test.map((d) => d.groupId)).size,
        metrics: computeMetrics(labels, scores),
        calibration: calibrationSummary(calibration(labels, scores)),
        names: { accuracy: nameMetrics.accuracy, calibration: calibrationSummary(calibration(labels, nameScores)) },
        trainSeconds,
        ...(model.chosen?.regParam !== undefined ? { regParam: model.chosen.regParam } : {}),
      };
      foldResults.push(result);
      options.onFold?.(params.model, result, index, folds.length);
    }
    const scored = docs.flatMap((_, i) => (Number.isNaN(oof[i]!) ? [] : [i]));
    const labels = scored.map((i) => docs[i]!.label);
    const pooledScores = scored.map((i) => oof[i]!);
    const over = (pick: (f: FoldResult) => number): Spread => spread(foldResults.map(pick));
    results.push({
      model: params.model,
      params,
      folds: foldResults,
      summary: {
        accuracy: over((f) => f.metrics.accuracy),
        rocAuc: over((f) => f.metrics.rocAuc),
        f1: Object.fromEntries(LABELS.map((l) => [l, over((f) => f.metrics.perClass[l].f1)])) as Record<Label, Spread>,
        brier: over((f) => f.calibration.brier),
        ece: over((f) => f.calibration.ece),
        namesAccuracy: over((f) => f.names.accuracy),
        namesEce: over((f) => f.names.calibration.ece),
        trainSeconds: over((f) => f.trainSeconds),
      },
      pooled: {
        metrics: computeMetrics(labels, pooledScores),
        calibration: calibration(labels, pooledScores),
        names: calibration(labels, scored.map((i) => oofNames[i]!)),
      },
    });
  }
  const regions: Record<string, { events: number; groups: number }> = {};
  const groupsOf = new Map<string, Set<number>>();
  for (const d of docs) {
    const region = d.region ?? '?';
    regions[region] = { events: (regions[region]?.events ?? 0) + 1, groups: 0 };
    groupsOf.set(region, (groupsOf.get(region) ?? new Set()).add(d.groupId));
  }
  for (const [region, groups] of groupsOf) regions[region]!.groups = groups.size;
  const best = [...results].sort((a, b) => b.summary.accuracy.mean - a.summary.accuracy.mean)[0]!.model;
  return {
    scheme: options.scheme,
    rows: docs.length,
    groups: new Set(docs.map((d) => d.groupId)).size,
    regions,
    folds: folds.map((f) => f.name),
    models: results,
    best,
  };
}

/** Calibration figures without the reliability table. */
export function calibrationSummary(c: Calibration): CalibrationSummary {
  return { brier: c.brier, logLoss: c.logLoss, ece: c.ece };
}

/** Spread of values (NaN values, e.g. an undefined AUC, left out). */
export function spread(values: readonly number[]): Spread {
  const xs = values.filter((v) => Number.isFinite(v));
  if (xs.length === 0) return { mean: Number.NaN, std: Number.NaN, min: Number.NaN, max: Number.NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.length > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) : 0;
  return { mean, std: Math.sqrt(variance), min: Math.min(...xs), max: Math.max(...xs) };
}
