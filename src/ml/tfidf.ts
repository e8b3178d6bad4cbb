/** A term must occur in at least this many training descriptions to be in the vocabulary. */
export const DEFAULT_MIN_DF = 3;

/**
 * TF-IDF features over a fixed vocabulary, as sparse rows (CSR). idf = ln((m + 1) / (df + 1))
 * over the m training documents — Spark ML's IDF formula, so the two engines build the same kind
 * of features. Term frequency is the raw count (the forest's features) or, for the linear models,
 * sublinear (1 + ln count: the tenth "python" in a text says less than the first) with each row
 * scaled to unit length (a long description and a short title weigh the same).
 */

/** How term counts become feature values. */
export interface Weighting {
  /** tf = 1 + ln(count) instead of count. */
  sublinear: boolean;
  /** Scale each row to unit Euclidean length. */
  normalize: boolean;
}

/** Raw counts × idf, rows not scaled (the random forest's features, as in the published reference). */
export const RAW_TFIDF: Weighting = { sublinear: false, normalize: false };

/** Sparse rows in compressed-row form; column indices are ascending within a row. */
export interface SparseRows {
  rows: number;
  cols: number;
  /** Row r's entries are [rowPtr[r], rowPtr[r + 1]). */
  rowPtr: Int32Array;
  colIdx: Int32Array;
  values: Float32Array;
}

export interface Vocabulary {
  /** Terms by column index: most frequent (document frequency) first, ties by term. */
  terms: string[];
  /** Inverse document frequency per column. */
  idf: Float64Array;
}

export interface VocabularyOptions {
  /** Keep at most this many terms. */
  size: number;
  /** Drop terms found in fewer documents than this. */
  minDf: number;
}

/** Chooses the vocabulary by document frequency over the training documents' tokens. */
export function fitVocabulary(docs: readonly string[][], options: VocabularyOptions): Vocabulary {
  const df = new Map<string, number>();
  for (const tokens of docs) for (const term of new Set(tokens)) df.set(term, (df.get(term) ?? 0) + 1);
  const kept = [...df.entries()]
    .filter(([, n]) => n >= options.minDf)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, options.size);
  const m = docs.length;
  return {
    terms: kept.map(([t]) => t),
    idf: Float64Array.from(kept, ([, n]) => Math.log((m + 1) / (n + 1))),
  };
}

/** TF-IDF rows for tokenised documents; terms outside the vocabulary are ignored. */
export function transform(vocabulary: Vocabulary, docs: readonly string[][], index = termIndex(vocabulary), weighting: Weighting = RAW_TFIDF): SparseRows {
  return buildRows(vocabulary, docs.length, weighting, (r, visit) => {
    for (const token of docs[r]!) {
      const c = index.get(token);
      if (c !== undefined) visit(c);
    }
  });
}

/**
 * The vocabulary's word pairs ("machine learning") as first word → second word → column, so a
 * scorer finds a pair's column from the two tokens it already has, without building the pair's
 * string (building and hashing those strings was most of the cost of scoring a description).
 */
export type PairIndex = Map<string, Map<string, number>>;

/** The pair columns of a vocabulary (terms with a space), for transformTokens. */
export function pairIndex(vocabulary: Vocabulary): PairIndex {
  const pairs: PairIndex = new Map();
  vocabulary.terms.forEach((term, c) => {
    const space = term.indexOf(' ');
    if (space < 0) return;
    const first = term.slice(0, space);
    let seconds = pairs.get(first);
    if (!seconds) pairs.set(first, (seconds = new Map()));
    seconds.set(term.slice(space + 1), c);
  });
  return pairs;
}

/**
 * TF-IDF rows for documents given as tokens, with each pair of consecutive tokens as a term when
 * `pairs` is given: the same rows as `transform` over `terms(text, 2)`, found without the pair strings.
 */
export function transformTokens(vocabulary: Vocabulary, docs: readonly string[][], index: Map<string, number>, pairs: PairIndex | undefined, weighting: Weighting): SparseRows {
  return buildRows(vocabulary, docs.length, weighting, (r, visit) => {
    const tokens = docs[r]!;
    for (let i = 0; i < tokens.length; i++) {
      const c = index.get(tokens[i]!);
      if (c !== undefined) visit(c);
      if (pairs && i + 1 < tokens.length) {
        const p = pairs.get(tokens[i]!)?.get(tokens[i + 1]!);
        if (p !== undefined) visit(p);
      }
    }
  });
}

/** CSR rows from each row's vocabulary columns (one visit per occurrence), weighted. */
function buildRows(vocabulary: Vocabulary, rows: number, weighting: Weighting, columnsOf: (row: number, visit: (column: number) => void) => void): SparseRows {
  const { idf } = vocabulary;
  const rowPtr = new Int32Array(rows + 1);
  let cols = new Int32Array(1024);
  let vals = new Float32Array(1024);
  let nnz = 0;
  const counts = new Int32Array(vocabulary.terms.length);
  const touched: number[] = [];
  const visit = (c: number): void => {
    if (counts[c]!++ === 0) touched.push(c);
  };
  for (let r = 0; r < rows; r++) {
    columnsOf(r, visit);
    touched.sort((a, b) => a - b);
    if (nnz + touched.length > cols.length) {
      const size = Math.max(cols.length * 2, nnz + touched.length);
      const moreCols = new Int32Array(size);
      moreCols.set(cols);
      cols = moreCols;
      const moreVals = new Float32Array(size);
      moreVals.set(vals);
      vals = moreVals;
    }
    const rowStart = nnz;
    let squares = 0;
    for (const c of touched) {
      const count = counts[c]!;
      const value = (weighting.sublinear ? 1 + Math.log(count) : count) * idf[c]!;
      counts[c] = 0;
      if (value > 0) {
        cols[nnz] = c;
        vals[nnz++] = value;
        squares += value * value;
      }
    }
    if (weighting.normalize && squares > 0) {
      const scale = 1 / Math.sqrt(squares);
      for (let k = rowStart; k < nnz; k++) vals[k]! *= scale;
    }
    touched.length = 0;
    rowPtr[r + 1] = nnz;
  }
  return { rows, cols: vocabulary.terms.length, rowPtr, colIdx: cols.slice(0, nnz), values: vals.slice(0, nnz) };
}

/** term → column index. */
export function termIndex(vocabulary: Vocabulary): Map<string, number> {
  return new Map(vocabulary.terms.map((t, i) => [t, i]));
}
