import type { SparseRows } from './tfidf.ts';

/**
 * L2-regularised logistic regression on sparse rows, fitted by L-BFGS: the linear model that
 * generalises best across regions on real text (docs/ml.md). The objective is Spark ML's
 * `LogisticRegression` with `standardization=false`:
 *
 *   mean over rows of log(1 + exp(-y'·(w·x + b)))  +  regParam / 2 · ‖w‖²      (y' = ±1)
 *
 * with the intercept b not penalised; so `regParam` passes to Spark unchanged. Deterministic:
 * the same rows give the same weights on every machine.
 */
export interface LogisticParams {
  /** λ of the L2 penalty (Spark's regParam). */
  regParam: number;
  /** Stop when the gradient's max-norm falls below this (default DEFAULT_TOLERANCE). */
  tolerance?: number;
  /** Default 500. */
  maxIterations?: number;
}

/**
 * The solver stops when no weight's gradient exceeds this. The objective is a mean over rows of
 * unit length, starting at ln 2 ≈ 0.69 with zero weights, so this is a tolerance relative to the
 * loss's own scale, whatever the number of rows. 1e-4 rather than 1e-5: on 50,000 descriptions the
 * last decade cost half the training time and moved no accuracy (leave one region out 0.971 vs
 * 0.969, held-out generated 0.973 vs 0.972; docs/ml.md).
 */
export const DEFAULT_TOLERANCE = 1e-4;

/** A fitted linear model: P(class 1 | x) = σ(w·x + b). */
export interface LinearModel {
  weights: Float64Array;
  bias: number;
}

/**
 * Fits the model on rows `x` with labels `y` (0/1). `rowWeights` (default 1 each) weigh each row's
 * loss; the mean is then a weighted mean (weights summing to the row count keep regParam's scale).
 * `start` warm-starts the solver (a solution for a nearby penalty converges in fewer steps).
 */
export function trainLogistic(x: SparseRows, y: Uint8Array, params: LogisticParams, rowWeights?: Float64Array, start?: LinearModel): LinearModel {
  if (x.rows !== y.length) throw new Error(`rows (${x.rows}) and labels (${y.length}) differ`);
  const d = x.cols;
  const n = rowWeights ? rowWeights.reduce((a, b) => a + b, 0) || 1 : Math.max(1, x.rows);
  const lambda = params.regParam;
  const { rowPtr, colIdx, values } = x;
  const z = new Float64Array(x.rows);
  // Parameters: [w_0 … w_{d-1}, b].
  const objective = (theta: Float64Array, grad: Float64Array): number => {
    margins(x, theta, theta[d]!, z);
    grad.fill(0);
    let loss = 0;
    let gb = 0;
    for (let r = 0; r < x.rows; r++) {
      const m = z[r]!;
      // log(1 + e^{-m}) for y = 1, log(1 + e^{m}) for y = 0, computed without overflow.
      const s = y[r] === 1 ? -m : m;
      const weight = rowWeights ? rowWeights[r]! : 1;
      loss += weight * (s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s)));
      const residual = weight * (sigmoid(m) - y[r]!);
      gb += residual;
      const to = rowPtr[r + 1]!;
      for (let k = rowPtr[r]!; k < to; k++) grad[colIdx[k]!]! += residual * values[k]!;
    }
    let penalty = 0;
    for (let j = 0; j < d; j++) {
      const w = theta[j]!;
      penalty += w * w;
      grad[j] = grad[j]! / n + lambda * w;
    }
    grad[d] = gb / n;
    return loss / n + (lambda / 2) * penalty;
  };
  const x0 = new Float64Array(d + 1);
  if (start && start.weights.length === d) {
    x0.set(start.weights);
    x0[d] = start.bias;
  }
  const theta = lbfgs(objective, x0, params.tolerance ?? DEFAULT_TOLERANCE, params.maxIterations ?? 500);
  return { weights: theta.slice(0, d), bias: theta[d]! };
}

/** P(class 1) per row. */
export function predictLinear(model: LinearModel, x: SparseRows): Float64Array {
  const out = margins(x, model.weights, model.bias, new Float64Array(x.rows));
  for (let r = 0; r < out.length; r++) out[r] = sigmoid(out[r]!);
  return out;
}

/** w·x + b per row into `out`; `weights` cover every column of `x`. */
export function margins(x: SparseRows, weights: Float64Array, bias: number, out: Float64Array): Float64Array {
  // Checked once here rather than per entry: a per-entry bound check halved this loop's speed.
  if (weights.length < x.cols) throw new Error(`weights (${weights.length}) do not cover the ${x.cols} columns`);
  const { rowPtr, colIdx, values } = x;
  for (let r = 0; r < x.rows; r++) {
    let m = bias;
    const to = rowPtr[r + 1]!;
    for (let k = rowPtr[r]!; k < to; k++) m += weights[colIdx[k]!]! * values[k]!;
    out[r] = m;
  }
  return out;
}

export function sigmoid(m: number): number {
  if (m >= 0) return 1 / (1 + Math.exp(-m));
  const e = Math.exp(m);
  return e / (1 + e);
}

/**
 * Minimises a smooth convex function with L-BFGS (memory 10) and a backtracking line search on
 * the Armijo condition. `f(x, grad)` returns the value and writes the gradient.
 */
export function lbfgs(f: (x: Float64Array, grad: Float64Array) => number, x0: Float64Array, tolerance: number, maxIterations: number): Float64Array {
  const dim = x0.length;
  const memory = 10;
  const s: Float64Array[] = [];
  const yv: Float64Array[] = [];
  const rho: number[] = [];
  const x = Float64Array.from(x0);
  const g = new Float64Array(dim);
  let fx = f(x, g);
  const direction = new Float64Array(dim);
  const alpha = new Float64Array(memory);
  const xNew = new Float64Array(dim);
  const gNew = new Float64Array(dim);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    if (maxAbs(g) < tolerance) break;
    // Two-loop recursion: direction = -H·g.
    direction.set(g);
    for (let i = s.length - 1; i >= 0; i--) {
      alpha[i] = rho[i]! * dot(s[i]!, direction);
      axpy(-alpha[i]!, yv[i]!, direction);
    }
    if (s.length > 0) {
      const last = s.length - 1;
      const gamma = dot(s[last]!, yv[last]!) / dot(yv[last]!, yv[last]!);
      for (let j = 0; j < dim; j++) direction[j]! *= gamma;
    } else {
      // First step: a unit-length move along the gradient.
      const scale = 1 / Math.max(1e-12, Math.sqrt(dot(g, g)));
      for (let j = 0; j < dim; j++) direction[j]! *= scale;
    }
    for (let i = 0; i < s.length; i++) {
      const beta = rho[i]! * dot(yv[i]!, direction);
      axpy(alpha[i]! - beta, s[i]!, direction);
    }
    for (let j = 0; j < dim; j++) direction[j] = -direction[j]!;
    let slope = dot(g, direction);
    if (slope >= 0) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      s.length = yv.length = rho.length = 0;
      for (let j = 0; j < dim; j++) direction[j] = -g[j]!;
      slope = dot(g, direction);
    }
    let step = 1;
    let fNew = Number.POSITIVE_INFINITY;
    for (let tries = 0; tries < 40; tries++) {
      for (let j = 0; j < dim; j++) xNew[j] = x[j]! + step * direction[j]!;
      fNew = f(xNew, gNew);
      if (fNew <= fx + 1e-4 * step * slope) break;
      step /= 2;
    }
    if (!(fNew < fx) && fx - fNew <= 0) break; // no progress possible
    const sk = new Float64Array(dim);
    const yk = new Float64Array(dim);
    for (let j = 0; j < dim; j++) {
      sk[j] = xNew[j]! - x[j]!;
      yk[j] = gNew[j]! - g[j]!;
    }
    const sy = dot(sk, yk);
    const converged = Math.abs(fx - fNew) <= 1e-12 * Math.max(1, Math.abs(fx));
    x.set(xNew);
    g.set(gNew);
    fx = fNew;
    if (converged) break;
    if (sy > 1e-12) {
      if (s.length === memory) {
        s.shift();
        yv.shift();
        rho.shift();
      }
      s.push(sk);
      yv.push(yk);
      rho.push(1 / sy);
    }
  }
  return x;
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i]! += a * x[i]!;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
