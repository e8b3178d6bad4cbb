import { describe, expect, it } from 'vitest';
import { computeMetrics, rocAuc } from '../../src/ml/metrics.ts';

/** ROC AUC by its definition: over all (positive, negative) pairs, 1 if ranked right, ½ on a tie. */
function pairwiseAuc(actual: number[], scores: number[]): number {
  let sum = 0;
  let pairs = 0;
  actual.forEach((a, i) => {
    if (a !== 1) return;
    actual.forEach((b, j) => {
      if (b !== 0) return;
      pairs++;
      sum += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    });
  });
  return sum / pairs;
}

describe('computeMetrics', () => {
  it('counts the confusion matrix (rows actual, columns predicted) and derives the per-class numbers', () => {
    // Given 10 predictions: actual 0 ×6 (predicted 0,0,0,0,1,1) and actual 1 ×4 (predicted 1,1,1,0)
    const actual = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
    const scores = [0.1, 0.2, 0.3, 0.4, 0.6, 0.9, 0.8, 0.7, 0.55, 0.5];
    // When the metrics are computed
    const m = computeMetrics(actual, scores);
    // Then: tn=4 fp=2 fn=1 tp=3 (0.5 is not above the threshold, so it is predicted outdoors)
    expect(m.confusionMatrix).toEqual({ labels: ['outdoors-adventure', 'tech'], matrix: [[4, 2], [1, 3]] });
    expect(m.accuracy).toBeCloseTo(7 / 10, 12);
    // tech: precision 3/(3+2), recall 3/(3+1); outdoors: precision 4/(4+1), recall 4/(4+2)
    const techP = 3 / 5, techR = 3 / 4, outP = 4 / 5, outR = 4 / 6;
    expect(m.perClass.tech).toEqual({ precision: techP, recall: techR, f1: (2 * techP * techR) / (techP + techR), support: 4 });
    expect(m.perClass['outdoors-adventure'].precision).toBeCloseTo(outP, 12);
    expect(m.perClass['outdoors-adventure'].recall).toBeCloseTo(outR, 12);
    expect(m.perClass['outdoors-adventure'].f1).toBeCloseTo((2 * outP * outR) / (outP + outR), 12);
    expect(m.perClass['outdoors-adventure'].support).toBe(6);
    // ROC AUC: of the 24 pairs, the positives 0.8 and 0.7 beat 5 negatives each and lose to 0.9,
    // 0.55 beats 4, 0.5 beats 4: (5 + 5 + 4 + 4) / 24
    expect(m.rocAuc).toBeCloseTo(18 / 24, 12);
  });

  it('gives no precision (0) to a class never predicted', () => {
    const m = computeMetrics([0, 1, 1], [0.1, 0.2, 0.3]);
    expect(m.perClass.tech).toEqual({ precision: 0, recall: 0, f1: 0, support: 2 });
    expect(m.accuracy).toBeCloseTo(1 / 3, 12);
  });
});

describe('rocAuc', () => {
  it('counts ties between a positive and a negative as one half', () => {
    // Given every score tied: AUC is ½
    expect(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])).toBe(0.5);
    // Given positives {0.7, 0.4} and negatives {0.4, 0.2}: pairs 0.7>0.4, 0.7>0.2, 0.4=0.4, 0.4>0.2 → 3.5/4
    expect(rocAuc([1, 1, 0, 0], [0.7, 0.4, 0.4, 0.2])).toBe(3.5 / 4);
  });

  it('matches the pairwise definition on random scores with many ties', () => {
    let seed = 7;
    const next = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const actual = Array.from({ length: 300 }, () => (next() < 0.4 ? 1 : 0));
    const scores = actual.map((a) => Math.round((next() + a * 0.3) * 10) / 10);
    expect(rocAuc(actual, scores)).toBeCloseTo(pairwiseAuc(actual, scores), 12);
  });

  it('is NaN without both classes', () => {
    expect(rocAuc([1, 1], [0.2, 0.3])).toBeNaN();
  });
});
