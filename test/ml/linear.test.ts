import { describe, expect, it } from 'vitest';
import { trainNaiveBayes } from '../../src/ml/bayes.ts';
import { applyPlatt, calibration, fitPlatt, IDENTITY } from '../../src/ml/calibration.ts';
import { DEFAULT_TOLERANCE, predictLinear, trainLogistic } from '../../src/ml/linear.ts';
import { Random } from '../../src/ml/random.ts';
import { sparse } from './sparse-rows.ts';

const sigma = (z: number): number => 1 / (1 + Math.exp(-z));

describe('logistic regression', () => {
  it('reaches the optimum of the penalised loss: the gradient, computed here independently, vanishes', () => {
    // Given 300 rows of 6 features whose labels follow a known linear rule with noise
    const rng = new Random(3);
    const dense = Array.from({ length: 300 }, () => Array.from({ length: 6 }, () => (rng.next() < 0.5 ? 0 : rng.next() * 2)));
    const truth = [2, -1.5, 0, 0.5, 0, -3];
    const y = Uint8Array.from(dense, (row) => (rng.next() < sigma(row.reduce((s, v, j) => s + v * truth[j]!, 0.3)) ? 1 : 0));
    const lambda = 0.01;
    // When it is fitted
    const model = trainLogistic(sparse(dense), y, { regParam: lambda });
    // Then mean(residual · x) + λw is within the solver's tolerance of 0 for every weight, and mean(residual) for the bias
    const residual = dense.map((row, i) => sigma(row.reduce((s, v, j) => s + v * model.weights[j]!, model.bias)) - y[i]!);
    for (let j = 0; j < 6; j++) {
      const g = residual.reduce((s, r, i) => s + r * dense[i]![j]!, 0) / dense.length + lambda * model.weights[j]!;
      expect(Math.abs(g)).toBeLessThan(DEFAULT_TOLERANCE);
    }
    expect(Math.abs(residual.reduce((a, b) => a + b, 0) / dense.length)).toBeLessThan(DEFAULT_TOLERANCE);
    // And a tighter tolerance is honoured
    const tight = trainLogistic(sparse(dense), y, { regParam: lambda, tolerance: 1e-7 });
    const tightResidual = dense.map((row, i) => sigma(row.reduce((s, v, j) => s + v * tight.weights[j]!, tight.bias)) - y[i]!);
    for (let j = 0; j < 6; j++) {
      const g = tightResidual.reduce((s, r, i) => s + r * dense[i]![j]!, 0) / dense.length + lambda * tight.weights[j]!;
      expect(Math.abs(g)).toBeLessThan(1e-7);
    }
    // And the signs of the strong weights are the rule's
    expect(model.weights[0]).toBeGreaterThan(0.5);
    expect(model.weights[5]).toBeLessThan(-1);
  });

  it('weighs rows: doubling the weight of every class-1 row is the same as repeating those rows', () => {
    const dense = [[1, 0], [0, 1], [1, 1], [0.5, 0], [0, 0.3], [1, 0.2]];
    const y = Uint8Array.from([1, 0, 1, 0, 0, 1]);
    const weighted = trainLogistic(sparse(dense), y, { regParam: 0.05 }, Float64Array.from(y, (v) => (v ? 2 : 1)));
    const repeated = [...dense, ...dense.filter((_, i) => y[i] === 1)];
    const ry = Uint8Array.from([...y, ...y.filter((v) => v === 1)]);
    const copy = trainLogistic(sparse(repeated), ry, { regParam: 0.05 });
    for (let j = 0; j < 2; j++) expect(weighted.weights[j]).toBeCloseTo(copy.weights[j]!, 4);
    expect(weighted.bias).toBeCloseTo(copy.bias, 4);
    expect(predictLinear(weighted, sparse([[1, 0]]))[0]).toBeGreaterThan(0.5);
  });
});

describe('naive Bayes', () => {
  it('computes the smoothed multinomial log-odds by hand', () => {
    // Given two class-0 rows and one class-1 row over 3 terms
    const x = sparse([[2, 0, 1], [1, 1, 0], [0, 3, 1]]);
    const y = Uint8Array.from([0, 0, 1]);
    const model = trainNaiveBayes(x, y, 1);
    // Then θ_0 = ([3, 1, 1] + 1) / (5 + 3), θ_1 = ([0, 3, 1] + 1) / (4 + 3), prior from (1 + 1)/(3 + 2) vs (2 + 1)/(3 + 2)
    const t0 = [4 / 8, 2 / 8, 2 / 8];
    const t1 = [1 / 7, 4 / 7, 2 / 7];
    for (let f = 0; f < 3; f++) expect(model.weights[f]).toBeCloseTo(Math.log(t1[f]!) - Math.log(t0[f]!), 10);
    expect(model.bias).toBeCloseTo(Math.log(2 / 5) - Math.log(3 / 5), 10);
  });
});

describe('calibration', () => {
  it('Platt scaling recovers the mapping that generated the labels', () => {
    // Given margins whose labels are drawn with P = σ(2·m − 1) (long texts: u ≈ 0)
    const rng = new Random(9);
    const m = Array.from({ length: 20_000 }, () => rng.next() * 8 - 4);
    const y = m.map((v) => (rng.next() < sigma(2 * v - 1) ? 1 : 0));
    // When the scaling is fitted
    const platt = fitPlatt(m, m.map(() => 0), y);
    // Then it finds scale 2 and shift −1
    expect(platt.scale).toBeCloseTo(2, 1);
    expect(platt.shift).toBeCloseTo(-1, 1);
    expect(applyPlatt(IDENTITY, 0.7, 0.5)).toBeCloseTo(sigma(0.7), 12);
  });

  it('learns to shrink the confidence of short texts when they are less reliable', () => {
    // Given long texts (u = 0.1) with P = σ(m) and short ones (u = 0.5) with P = σ(m / 2)
    const rng = new Random(4);
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ m: rng.next() * 8 - 4, u: i % 2 ? 0.5 : 0.1 }));
    const y = rows.map((r) => (rng.next() < sigma(r.u === 0.5 ? r.m / 2 : r.m) ? 1 : 0));
    const platt = fitPlatt(rows.map((r) => r.m), rows.map((r) => r.u), y);
    // Then a short text's probability comes out less extreme than a long one's with the same margin
    expect(applyPlatt(platt, 3, 0.5)).toBeCloseTo(sigma(1.5), 1);
    expect(applyPlatt(platt, 3, 0.1)).toBeCloseTo(sigma(3), 1);
  });

  it('computes Brier, log loss, ECE and the reliability table from predictions', () => {
    const actual = [1, 0, 1, 1, 0];
    const p = [0.9, 0.2, 0.65, 0.95, 0.6];
    const c = calibration(actual, p, 10);
    expect(c.brier).toBeCloseTo((0.01 + 0.04 + 0.1225 + 0.0025 + 0.36) / 5, 12);
    expect(c.logLoss).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8) + Math.log(0.65) + Math.log(0.95) + Math.log(0.4)) / 5, 12);
    // Bins: [0.2] observed 0; [0.6, 0.65] observed 1/2; [0.9, 0.95] observed 1
    expect(c.reliability.map((b) => [b.from, b.count])).toEqual([[0.2, 1], [0.6, 2], [0.9, 2]]);
    expect(c.ece).toBeCloseTo((1 / 5) * 0.2 + (2 / 5) * Math.abs(0.625 - 0.5) + (2 / 5) * Math.abs(0.925 - 1), 12);
  });
});
