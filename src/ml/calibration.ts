import { lbfgs, sigmoid } from './linear.ts';

/**
 * Probabilities that mean what they say. A model's raw score is mapped to P(tech) by Platt
 * scaling, σ(scale·margin + shift), fitted on out-of-fold margins (scores of rows the model did
 * not train on); and calibration is measured on held-out rows: Brier score, log loss, expected
 * calibration error and the reliability table behind it.
 */

/** σ(scale · margin + shift). The identity is {scale: 1, shift: 0}. */
export interface Platt {
  scale: number;
  shift: number;
}

export const IDENTITY: Platt = { scale: 1, shift: 0 };

/**
 * Fits Platt scaling to margins and labels (0/1), with optional row weights, by minimising the
 * weighted log loss (and a tiny ridge, so separable data stays finite).
 */
export function fitPlatt(margins: ArrayLike<number>, labels: ArrayLike<number>, weights?: ArrayLike<number>): Platt {
  const n = margins.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += weights ? weights[i]! : 1;
  if (n === 0 || total === 0) return IDENTITY;
  const ridge = 1e-4;
  const theta = lbfgs(
    (p, grad) => {
      let loss = 0;
      let ga = 0;
      let gb = 0;
      for (let i = 0; i < n; i++) {
        const w = weights ? weights[i]! : 1;
        const z = p[0]! * margins[i]! + p[1]!;
        const s = labels[i] === 1 ? -z : z;
        loss += w * (s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s)));
        const r = w * (sigmoid(z) - labels[i]!);
        ga += r * margins[i]!;
        gb += r;
      }
      grad[0] = ga / total + ridge * p[0]!;
      grad[1] = gb / total;
      return loss / total + (ridge / 2) * p[0]! * p[0]!;
    },
    Float64Array.of(1, 0),
    1e-9,
    200,
  );
  return { scale: theta[0]!, shift: theta[1]! };
}

export function applyPlatt(platt: Platt, margin: number): number {
  return sigmoid(platt.scale * margin + platt.shift);
}

/** One bin of a reliability table: predictions in [from, to), their mean and the observed share of tech. */
export interface ReliabilityBin {
  from: number;
  to: number;
  count: number;
  meanPredicted: number;
  observed: number;
}

/** How well P(tech) matches what happened. */
export interface Calibration {
  /** Mean squared error of P(tech) against the 0/1 label (0 is perfect; always 0.25 scores 0.25). */
  brier: number;
  /** Mean negative log-likelihood of the actual label (probabilities clipped to [1e-15, 1 − 1e-15]). */
  logLoss: number;
  /** Expected calibration error: Σ over bins of (share of rows) · |mean predicted − observed|. */
  ece: number;
  reliability: ReliabilityBin[];
}

/** Calibration figures of P(tech) `scores` against `actual` labels, with `bins` equal-width bins. */
export function calibration(actual: ArrayLike<number>, scores: ArrayLike<number>, bins = 10): Calibration {
  const n = actual.length;
  const count = new Array<number>(bins).fill(0);
  const sumP = new Array<number>(bins).fill(0);
  const sumY = new Array<number>(bins).fill(0);
  let brier = 0;
  let logLoss = 0;
  for (let i = 0; i < n; i++) {
    const p = scores[i]!;
    const y = actual[i] === 1 ? 1 : 0;
    brier += (p - y) ** 2;
    const q = Math.min(1 - 1e-15, Math.max(1e-15, y === 1 ? p : 1 - p));
    logLoss -= Math.log(q);
    const b = Math.min(bins - 1, Math.floor(p * bins));
    count[b]!++;
    sumP[b]! += p;
    sumY[b]! += y;
  }
  let ece = 0;
  const reliability: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) {
    if (count[b] === 0) continue;
    const meanPredicted = sumP[b]! / count[b]!;
    const observed = sumY[b]! / count[b]!;
    ece += (count[b]! / n) * Math.abs(meanPredicted - observed);
    reliability.push({ from: b / bins, to: (b + 1) / bins, count: count[b]!, meanPredicted, observed });
  }
  return { brier: n ? brier / n : Number.NaN, logLoss: n ? logLoss / n : Number.NaN, ece: n ? ece : Number.NaN, reliability };
}
