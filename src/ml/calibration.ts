import { lbfgs, sigmoid } from './linear.ts';

/**
 * Probabilities that mean what they say. A model's raw score (margin) is mapped to P(tech) by
 * Platt scaling fitted on out-of-fold margins (scores of rows the model did not train on), with
 * one refinement for short texts: a title of four words carries less evidence than a page of
 * description, yet unit-length rows give it as large a margin. So the scale depends on how many
 * known terms the text has, through u = 1/√terms:
 *
 *   P(tech) = σ((scale + shortScale · u) · margin + shift + shortShift · u)
 *
 * fitted on full texts and on the event names alone (the inner folds score both), so the data say
 * how much to shrink a short text's confidence. Calibration is then measured on held-out rows:
 * Brier score, log loss, expected calibration error and the reliability table behind it.
 */

/** σ((scale + shortScale · u) · margin + shift + shortShift · u). */
export interface Platt {
  scale: number;
  shortScale: number;
  shift: number;
  shortShift: number;
}

export const IDENTITY: Platt = { scale: 1, shortScale: 0, shift: 0, shortShift: 0 };

/** u of a text with `terms` known terms (nonzero features): 1/√terms, 1 for none. */
export function shortness(terms: number): number {
  return 1 / Math.sqrt(Math.max(1, terms));
}

/**
 * Fits the scaling to margins, their texts' shortness u and labels (0/1), with optional row
 * weights, by minimising the weighted log loss (and a tiny ridge, so separable data stays finite).
 */
export function fitPlatt(margins: ArrayLike<number>, short: ArrayLike<number>, labels: ArrayLike<number>, weights?: ArrayLike<number>): Platt {
  const n = margins.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += weights ? weights[i]! : 1;
  if (n === 0 || total === 0) return IDENTITY;
  const ridge = 1e-4;
  const theta = lbfgs(
    (p, grad) => {
      let loss = 0;
      let ga = 0;
      let gc = 0;
      let gb = 0;
      let gd = 0;
      for (let i = 0; i < n; i++) {
        const w = weights ? weights[i]! : 1;
        const z = (p[0]! + p[1]! * short[i]!) * margins[i]! + p[2]! + p[3]! * short[i]!;
        const s = labels[i] === 1 ? -z : z;
        loss += w * (s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s)));
        const r = w * (sigmoid(z) - labels[i]!);
        ga += r * margins[i]!;
        gc += r * margins[i]! * short[i]!;
        gb += r;
        gd += r * short[i]!;
      }
      grad[0] = ga / total + ridge * p[0]!;
      grad[1] = gc / total + ridge * p[1]!;
      grad[2] = gb / total;
      grad[3] = gd / total + ridge * p[3]!;
      return loss / total + (ridge / 2) * (p[0]! * p[0]! + p[1]! * p[1]! + p[3]! * p[3]!);
    },
    Float64Array.of(1, 0, 0, 0),
    1e-9,
    300,
  );
  return { scale: theta[0]!, shortScale: theta[1]!, shift: theta[2]!, shortShift: theta[3]! };
}

/** P(tech) of a margin of a text with shortness u. */
export function applyPlatt(platt: Platt, margin: number, u: number): number {
  return sigmoid((platt.scale + platt.shortScale * u) * margin + platt.shift + platt.shortShift * u);
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
