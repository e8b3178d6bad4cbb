import { describe, expect, it } from 'vitest';
import { crossValidate, makeFolds, spread } from '../../src/ml/cv.ts';
import type { LabelledDoc } from '../../src/ml/labels.ts';
import { defaultParams } from '../../src/ml/model.ts';
import { groupFolds } from '../../src/ml/split.ts';
import { corpusDocs, generateCorpus } from '../helpers/ml-corpus.ts';

// Generated events with a region per group: three big regions and a tiny one.
const docs: LabelledDoc[] = corpusDocs(generateCorpus({ events: 1500, seed: 21 })).map((d) => ({
  ...d,
  region: d.groupId % 40 === 0 ? 'XX' : ['MA', 'MD', 'PA'][d.groupId % 3]!,
}));

describe('cross-validation folds', () => {
  it('group k-fold: every group in exactly one fold, folds of similar size and class mix', () => {
    const folds = groupFolds(docs, 5, 42);
    const foldOfGroup = new Map<number, number>();
    docs.forEach((d, i) => {
      expect(foldOfGroup.get(d.groupId) ?? folds[i]).toBe(folds[i]);
      foldOfGroup.set(d.groupId, folds[i]!);
    });
    const sizes = [0, 1, 2, 3, 4].map((f) => docs.filter((_, i) => folds[i] === f));
    for (const fold of sizes) {
      expect(fold.length).toBeGreaterThan(docs.length / 5 - 60);
      expect(fold.length).toBeLessThan(docs.length / 5 + 60);
      const tech = fold.filter((d) => d.label === 1).length / fold.length;
      expect(Math.abs(tech - docs.filter((d) => d.label === 1).length / docs.length)).toBeLessThan(0.08);
    }
    // And the same seed gives the same folds
    expect(groupFolds(docs, 5, 42)).toEqual(folds);
  });

  it('leave one region out: each big region is held out once; a small region always trains', () => {
    const folds = makeFolds(docs, { scheme: 'region', minRegionEvents: 100 });
    expect(folds.map((f) => f.name)).toEqual(['MA', 'MD', 'PA']);
    for (const fold of folds) expect(new Set(fold.test.map((i) => docs[i]!.region))).toEqual(new Set([fold.name]));
    expect(folds.flatMap((f) => f.test).some((i) => docs[i]!.region === 'XX')).toBe(false);
  });
});

describe('crossValidate', () => {
  it('reports per-fold metrics computed from predictions, their spread, and pooled calibration', () => {
    const report = crossValidate(docs, [{ ...defaultParams('lr'), regParam: 1e-4, calibrate: false }], { scheme: 'region' });
    const m = report.models[0]!;
    expect(report.folds).toEqual(['MA', 'MD', 'PA']);
    expect(m.folds.map((f) => f.testRows)).toEqual(['MA', 'MD', 'PA'].map((r) => docs.filter((d) => d.region === r).length));
    // The spread is the folds' mean and sample standard deviation
    const accuracies = m.folds.map((f) => f.metrics.accuracy);
    const mean = accuracies.reduce((a, b) => a + b) / 3;
    expect(m.summary.accuracy.mean).toBeCloseTo(mean, 12);
    expect(m.summary.accuracy.std).toBeCloseTo(Math.sqrt(accuracies.reduce((a, b) => a + (b - mean) ** 2, 0) / 2), 12);
    // Pooled over folds: every held-out event counted once
    expect(m.pooled.metrics.confusionMatrix.matrix.flat().reduce((a, b) => a + b)).toBe(m.folds.reduce((s, f) => s + f.testRows, 0));
    expect(m.pooled.calibration.reliability.reduce((s, b) => s + b.count, 0)).toBe(m.pooled.metrics.confusionMatrix.matrix.flat().reduce((a, b) => a + b));
    expect(m.summary.accuracy.mean).toBeGreaterThan(0.9);
    expect(report.best).toBe('lr');
    expect(spread([1, 3])).toEqual({ mean: 2, std: Math.SQRT2, min: 1, max: 3 });
  });
});
