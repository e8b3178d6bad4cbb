import type { SparseRows } from '../../src/ml/tfidf.ts';

/** Sparse rows from dense arrays (zeros dropped), for the model tests. */
export function sparse(dense: number[][]): SparseRows {
  const rowPtr = [0];
  const cols: number[] = [];
  const vals: number[] = [];
  for (const row of dense) {
    row.forEach((v, c) => {
      if (v !== 0) {
        cols.push(c);
        vals.push(v);
      }
    });
    rowPtr.push(cols.length);
  }
  return { rows: dense.length, cols: dense[0]!.length, rowPtr: Int32Array.from(rowPtr), colIdx: Int32Array.from(cols), values: Float32Array.from(vals) };
}
