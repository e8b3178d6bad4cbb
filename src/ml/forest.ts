import { Random, mix } from './random.ts';
import type { SparseRows } from './tfidf.ts';

/**
 * A random forest for two classes on sparse features, written for TF-IDF text.
 *
 * Each tree grows depth-first on a bootstrap sample (per-row draw counts used as weights) and
 * tries `featuresPerSplit` random features at each node, choosing the split with the largest
 * weighted Gini decrease. Feature values are binned once (each distinct nonzero value its own bin
 * up to `maxBins - 1` bins, quantiles beyond, like Spark's maxBins), so a node's candidate splits
 * come from per-bin class histograms instead of sorting. Sparsity does the rest: only nonzero
 * entries are visited, and the zero bin's counts are the node totals minus the nonzero counts.
 * A node fills its histograms from whichever is smaller: the sampled features' columns (a few
 * percent of all entries, cheap near the root) or its own rows' entries (cheap deep down).
 */
export interface ForestParams {
  trees: number;
  maxDepth: number;
  /** Features tried per split; 0 means ceil(sqrt(features)) (Spark's 'sqrt'). */
  featuresPerSplit: number;
  seed: number;
  /** Histogram bins per feature including the zero bin (≤ 256). */
  maxBins?: number;
}

/** A trained forest: all trees' nodes in flat typed arrays. */
export interface Forest {
  features: number;
  /** Index of each tree's root node. */
  roots: Int32Array;
  /** Split feature per node; -1 marks a leaf. */
  feature: Int32Array;
  /** A row goes left when its value ≤ threshold. */
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  /** Leaf: share of class 1 among its (bootstrap-weighted) training rows. */
  value: Float32Array;
  /** Mean decrease in impurity per feature, normalised per tree, averaged, summing to 1. */
  importance: Float64Array;
}

/** Binned training data: CSR with per-entry bins, plus the same entries by column. */
interface Binned {
  rows: number;
  cols: number;
  rowPtr: Int32Array;
  colIdx: Int32Array;
  rowBin: Uint8Array;
  colPtr: Int32Array;
  colRow: Int32Array;
  colBin: Uint8Array;
  /** Nonzero bins per feature. */
  numBins: Int32Array;
  /** threshold[f * maxBins + b]: the value between bin b and bin b + 1 of feature f. */
  thresholds: Float32Array;
}

/** Trains a forest on sparse rows `x` with labels `y` (0/1). The same seed gives the same forest. */
export function trainForest(x: SparseRows, y: Uint8Array, params: ForestParams): Forest {
  if (x.rows !== y.length) throw new Error(`rows (${x.rows}) and labels (${y.length}) differ`);
  const maxBins = Math.min(256, Math.max(2, params.maxBins ?? 32));
  const data = binFeatures(x, maxBins);
  const mtry = Math.max(1, Math.min(x.cols, params.featuresPerSplit > 0 ? params.featuresPerSplit : Math.ceil(Math.sqrt(x.cols))));
  const builder = new TreeBuilder(data, y, maxBins, mtry, params.maxDepth);
  const nodes = new NodeList();
  const roots = new Int32Array(params.trees);
  const importance = new Float64Array(x.cols);
  for (let t = 0; t < params.trees; t++) {
    roots[t] = nodes.length;
    const treeImportance = builder.grow(new Random(mix(params.seed, t)), nodes);
    let sum = 0;
    for (const v of treeImportance) sum += v;
    if (sum > 0) for (let f = 0; f < x.cols; f++) importance[f]! += treeImportance[f]! / sum;
  }
  let total = 0;
  for (const v of importance) total += v;
  if (total > 0) for (let f = 0; f < x.cols; f++) importance[f]! /= total;
  return { features: x.cols, roots, ...nodes.pack(), importance };
}

/** P(class 1) per row: the mean over trees of the leaf's class-1 share (as Spark ML computes it). */
export function predictForest(forest: Forest, x: SparseRows): Float64Array {
  const out = new Float64Array(x.rows);
  const dense = new Float32Array(forest.features);
  const { roots, feature, threshold, left, right, value } = forest;
  for (let r = 0; r < x.rows; r++) {
    const from = x.rowPtr[r]!;
    const to = x.rowPtr[r + 1]!;
    for (let k = from; k < to; k++) {
      const c = x.colIdx[k]!;
      if (c < forest.features) dense[c] = x.values[k]!;
    }
    let sum = 0;
    for (let t = 0; t < roots.length; t++) {
      let n = roots[t]!;
      for (let f = feature[n]!; f >= 0; f = feature[n]!) n = dense[f]! <= threshold[n]! ? left[n]! : right[n]!;
      sum += value[n]!;
    }
    out[r] = roots.length > 0 ? sum / roots.length : 0.5;
    for (let k = from; k < to; k++) {
      const c = x.colIdx[k]!;
      if (c < forest.features) dense[c] = 0;
    }
  }
  return out;
}

class TreeBuilder {
  private readonly weight: Int32Array;
  private readonly mark: Int32Array;
  private stamp = 0;
  private readonly slotOf: Int32Array;
  private readonly perm: Int32Array;
  private readonly hist: Float64Array;
  private idx = new Int32Array(0);
  private importance = new Float64Array(0);
  private rng = new Random(0);
  private nodes = new NodeList();

  constructor(
    private readonly data: Binned,
    private readonly y: Uint8Array,
    private readonly maxBins: number,
    private readonly mtry: number,
    private readonly maxDepth: number,
  ) {
    this.weight = new Int32Array(data.rows);
    this.mark = new Int32Array(data.rows);
    this.slotOf = new Int32Array(data.cols).fill(-1);
    this.perm = Int32Array.from({ length: data.cols }, (_, i) => i);
    this.hist = new Float64Array(mtry * maxBins * 2);
  }

  /** Grows one tree into `nodes`; returns its per-feature impurity decrease. */
  grow(rng: Random, nodes: NodeList): Float64Array {
    this.rng = rng;
    this.nodes = nodes;
    this.importance = new Float64Array(this.data.cols);
    const n = this.data.rows;
    this.weight.fill(0);
    for (let i = 0; i < n; i++) this.weight[rng.int(n)]!++;
    let inBag = 0;
    for (let r = 0; r < n; r++) if (this.weight[r]! > 0) inBag++;
    this.idx = new Int32Array(inBag);
    for (let r = 0, i = 0; r < n; r++) if (this.weight[r]! > 0) this.idx[i++] = r;
    this.build(0, inBag, 0);
    return this.importance;
  }

  private build(start: number, end: number, depth: number): number {
    const { data, y, weight, idx, hist, perm, maxBins } = this;
    let t0 = 0;
    let t1 = 0;
    let rowCost = 0;
    for (let i = start; i < end; i++) {
      const r = idx[i]!;
      if (y[r] === 1) t1 += weight[r]!;
      else t0 += weight[r]!;
      rowCost += data.rowPtr[r + 1]! - data.rowPtr[r]!;
    }
    const node = this.nodes.add();
    const total = t0 + t1;
    if (depth >= this.maxDepth || t0 === 0 || t1 === 0 || end - start < 2) {
      this.nodes.leaf(node, total > 0 ? t1 / total : 0.5);
      return node;
    }

    // Sample mtry features (a partial Fisher–Yates over a persistent permutation); when none of
    // them separates the node, draw the next mtry (as scikit-learn does) rather than stopping with
    // a mixed leaf: in sparse text most features are absent from a small node.
    const cols = data.cols;
    const parentImpurity = total - (t0 * t0 + t1 * t1) / total;
    let bestGain = 1e-9;
    let bestFeature = -1;
    let bestBin = -1;
    for (let from = 0; from < cols && bestFeature < 0; from += this.mtry) {
      const count = Math.min(this.mtry, cols - from);
      let colCost = 0;
      for (let s = from; s < from + count; s++) {
        const j = s + this.rng.int(cols - s);
        const f = perm[j]!;
        perm[j] = perm[s]!;
        perm[s] = f;
        colCost += data.colPtr[f + 1]! - data.colPtr[f]!;
      }
      this.fillHistograms(start, end, from, count, colCost < rowCost);
      const stride = maxBins * 2;
      for (let s = 0; s < count; s++) {
        const f = perm[from + s]!;
        const base = s * stride;
        const bins = data.numBins[f]!;
        let nz0 = 0;
        let nz1 = 0;
        for (let b = 1; b <= bins; b++) {
          nz0 += hist[base + b * 2]!;
          nz1 += hist[base + b * 2 + 1]!;
        }
        if (nz0 + nz1 === 0) continue;
        let l0 = t0 - nz0;
        let l1 = t1 - nz1;
        for (let b = 0; b < bins; b++) {
          if (b > 0) {
            l0 += hist[base + b * 2]!;
            l1 += hist[base + b * 2 + 1]!;
          }
          const nl = l0 + l1;
          const r0 = t0 - l0;
          const r1 = t1 - l1;
          const nr = r0 + r1;
          if (nl === 0 || nr === 0) continue;
          const gain = parentImpurity - (nl - (l0 * l0 + l1 * l1) / nl) - (nr - (r0 * r0 + r1 * r1) / nr);
          if (gain > bestGain) {
            bestGain = gain;
            bestFeature = f;
            bestBin = b;
          }
        }
      }
    }
    if (bestFeature < 0) {
      this.nodes.leaf(node, t1 / total);
      return node;
    }

    this.importance[bestFeature]! += bestGain;
    let lo = start;
    let hi = end - 1;
    while (lo <= hi) {
      const r = idx[lo]!;
      if (this.binOf(r, bestFeature) <= bestBin) lo++;
      else {
        idx[lo] = idx[hi]!;
        idx[hi] = r;
        hi--;
      }
    }
    const leftNode = this.build(start, lo, depth + 1);
    const rightNode = this.build(lo, end, depth + 1);
    this.nodes.split(node, bestFeature, data.thresholds[bestFeature * maxBins + bestBin]!, leftNode, rightNode);
    return node;
  }

  /** Class histograms of features perm[from, from + count) over the node's rows idx[start, end). */
  private fillHistograms(start: number, end: number, from: number, count: number, byColumn: boolean): void {
    const { data, y, weight, idx, hist, perm } = this;
    const stride = this.maxBins * 2;
    hist.fill(0);
    if (byColumn) {
      const stamp = ++this.stamp;
      for (let i = start; i < end; i++) this.mark[idx[i]!] = stamp;
      for (let s = 0; s < count; s++) {
        const f = perm[from + s]!;
        const base = s * stride;
        for (let k = data.colPtr[f]!, to = data.colPtr[f + 1]!; k < to; k++) {
          const r = data.colRow[k]!;
          if (this.mark[r] === stamp) hist[base + data.colBin[k]! * 2 + y[r]!]! += weight[r]!;
        }
      }
      return;
    }
    for (let s = 0; s < count; s++) this.slotOf[perm[from + s]!] = s;
    for (let i = start; i < end; i++) {
      const r = idx[i]!;
      const w = weight[r]!;
      const yr = y[r]!;
      for (let k = data.rowPtr[r]!, to = data.rowPtr[r + 1]!; k < to; k++) {
        const s = this.slotOf[data.colIdx[k]!]!;
        if (s >= 0) hist[s * stride + data.rowBin[k]! * 2 + yr]! += w;
      }
    }
    for (let s = 0; s < count; s++) this.slotOf[perm[from + s]!] = -1;
  }

  /** The bin of row r's value for feature f (0 when the row lacks it), by binary search. */
  private binOf(r: number, f: number): number {
    const { rowPtr, colIdx, rowBin } = this.data;
    let lo = rowPtr[r]!;
    let hi = rowPtr[r + 1]! - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = colIdx[mid]!;
      if (c === f) return rowBin[mid]!;
      if (c < f) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }
}

/** Growable node storage; packed into typed arrays at the end. */
class NodeList {
  private readonly feature: number[] = [];
  private readonly threshold: number[] = [];
  private readonly left: number[] = [];
  private readonly right: number[] = [];
  private readonly value: number[] = [];

  get length(): number {
    return this.feature.length;
  }

  add(): number {
    this.feature.push(-1);
    this.threshold.push(0);
    this.left.push(-1);
    this.right.push(-1);
    this.value.push(0);
    return this.feature.length - 1;
  }

  leaf(node: number, value: number): void {
    this.value[node] = value;
  }

  split(node: number, feature: number, threshold: number, left: number, right: number): void {
    this.feature[node] = feature;
    this.threshold[node] = threshold;
    this.left[node] = left;
    this.right[node] = right;
  }

  pack(): Pick<Forest, 'feature' | 'threshold' | 'left' | 'right' | 'value'> {
    return {
      feature: Int32Array.from(this.feature),
      threshold: Float32Array.from(this.threshold),
      left: Int32Array.from(this.left),
      right: Int32Array.from(this.right),
      value: Float32Array.from(this.value),
    };
  }
}

/** Bins every feature's nonzero values and builds the column-wise copy. */
function binFeatures(x: SparseRows, maxBins: number): Binned {
  const { rows, cols, rowPtr, colIdx, values } = x;
  const nnz = colIdx.length;
  const colPtr = new Int32Array(cols + 1);
  for (let k = 0; k < nnz; k++) colPtr[colIdx[k]! + 1]!++;
  for (let c = 0; c < cols; c++) colPtr[c + 1]! += colPtr[c]!;
  const colRow = new Int32Array(nnz);
  const colVal = new Float32Array(nnz);
  const cursor = colPtr.slice(0, cols);
  for (let r = 0; r < rows; r++) {
    for (let k = rowPtr[r]!; k < rowPtr[r + 1]!; k++) {
      const at = cursor[colIdx[k]!]!++;
      colRow[at] = r;
      colVal[at] = values[k]!;
    }
  }

  const numBins = new Int32Array(cols);
  const thresholds = new Float32Array(cols * maxBins);
  const upper: Float32Array[] = [];
  for (let c = 0; c < cols; c++) {
    const sorted = colVal.slice(colPtr[c]!, colPtr[c + 1]!).sort();
    const distinct: number[] = [];
    for (const v of sorted) if (distinct.length === 0 || distinct[distinct.length - 1] !== v) distinct.push(v);
    // Upper bound of each nonzero bin: every distinct value, or entry quantiles when too many.
    let bounds: number[];
    if (distinct.length <= maxBins - 1) bounds = distinct;
    else {
      bounds = [];
      const nb = maxBins - 1;
      for (let q = 1; q <= nb; q++) {
        const v = sorted[Math.max(0, Math.ceil((q * sorted.length) / nb) - 1)]!;
        if (bounds.length === 0 || bounds[bounds.length - 1]! < v) bounds.push(v);
      }
    }
    upper.push(Float32Array.from(bounds));
    numBins[c] = bounds.length;
    // Threshold after bin b: midway between the bin's largest value and the next value seen.
    for (let b = 0, d = 0; b < bounds.length; b++) {
      const lo = b === 0 ? 0 : bounds[b - 1]!;
      while (d < distinct.length && distinct[d]! <= lo) d++;
      thresholds[c * maxBins + b] = (lo + (distinct[d] ?? lo)) / 2;
    }
  }
  const binOf = (c: number, v: number): number => {
    const bounds = upper[c]!;
    let lo = 0;
    let hi = bounds.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (bounds[mid]! >= v) hi = mid;
      else lo = mid + 1;
    }
    return lo + 1;
  };
  const rowBin = new Uint8Array(nnz);
  for (let r = 0; r < rows; r++) for (let k = rowPtr[r]!; k < rowPtr[r + 1]!; k++) rowBin[k] = binOf(colIdx[k]!, values[k]!);
  const colBin = new Uint8Array(nnz);
  for (let c = 0; c < cols; c++) for (let k = colPtr[c]!; k < colPtr[c + 1]!; k++) colBin[k] = binOf(c, colVal[k]!);
  return { rows, cols, rowPtr, colIdx, rowBin, colPtr, colRow, colBin, numBins, thresholds };
}
