import type { LinearModel } from './linear.ts';
import type { SparseRows } from './tfidf.ts';

/**
 * Multinomial naive Bayes for two classes on nonnegative features (Spark ML's `NaiveBayes`,
 * modelType "multinomial", same smoothing): per class, θ_cf = (Σ x_f + α) / (Σ_f Σ x_f + α·d).
 * Its decision is linear in x, so it is returned as a LinearModel on the log-odds:
 * w_f = ln θ_1f − ln θ_0f and b = ln P(1) − ln P(0); P(class 1 | x) = σ(w·x + b).
 * `rowWeights` weigh each row's contribution (Spark's weightCol), priors included.
 */
export function trainNaiveBayes(x: SparseRows, y: Uint8Array, smoothing: number, rowWeights?: Float64Array): LinearModel {
  if (x.rows !== y.length) throw new Error(`rows (${x.rows}) and labels (${y.length}) differ`);
  const d = x.cols;
  const mass = [new Float64Array(d), new Float64Array(d)] as const;
  const rows = [0, 0];
  for (let r = 0; r < x.rows; r++) {
    const c = y[r] === 1 ? 1 : 0;
    const weight = rowWeights ? rowWeights[r]! : 1;
    rows[c]! += weight;
    const m = mass[c];
    for (let k = x.rowPtr[r]!, to = x.rowPtr[r + 1]!; k < to; k++) m[x.colIdx[k]!]! += weight * x.values[k]!;
  }
  const totals = mass.map((m) => m.reduce((a, b) => a + b, 0) + smoothing * d);
  const weights = new Float64Array(d);
  for (let f = 0; f < d; f++) weights[f] = Math.log((mass[1][f]! + smoothing) / totals[1]!) - Math.log((mass[0][f]! + smoothing) / totals[0]!);
  // Class priors as Spark computes them (smoothed counts), so a one-class sample stays finite.
  const all = rows[0]! + rows[1]!;
  const bias = Math.log((rows[1]! + smoothing) / (all + 2 * smoothing)) - Math.log((rows[0]! + smoothing) / (all + 2 * smoothing));
  return { weights, bias };
}
