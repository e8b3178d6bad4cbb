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

/** A vocabulary fitted on tokenised documents, and those documents' rows. */
export interface Fitted {
  vocabulary: Vocabulary;
  rows: SparseRows;
}

/**
 * Chooses the vocabulary by document frequency over tokenised documents — their words and, with
 * `ngrams` 2, each pair of consecutive tokens (the terms of text.ts `terms`: "machine learning") —
 * and builds the documents' rows. Works on integer token ids: a pair's string is built only for
 * pairs frequent enough to be candidates (building and hashing every pair's string was most of
 * the cost of featurising 50,000 descriptions).
 */
export function fitTransform(docs: readonly string[][], ngrams: 1 | 2, options: VocabularyOptions, weighting: Weighting): Fitted {
  const idOf = new Map<string, number>();
  const words: string[] = [];
  const ids = docs.map((tokens) => {
    const out = new Int32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      let id = idOf.get(tokens[i]!);
      if (id === undefined) {
        id = words.length;
        idOf.set(tokens[i]!, id);
        words.push(tokens[i]!);
      }
      out[i] = id;
    }
    return out;
  });
  const n = words.length;
  const df = new Int32Array(n);
  const lastDoc = new Int32Array(n).fill(-1);
  ids.forEach((doc, r) => {
    for (const id of doc) {
      if (lastDoc[id] !== r) {
        lastDoc[id] = r;
        df[id]!++;
      }
    }
  });
  // A pair is in no more documents than either of its words: only pairs of frequent words can qualify.
  const pairSlot = new Map<number, number>();
  const pairKeys: number[] = [];
  const pairDf: number[] = [];
  const pairLast: number[] = [];
  if (ngrams === 2) {
    ids.forEach((doc, r) => {
      for (let i = 0; i + 1 < doc.length; i++) {
        const a = doc[i]!;
        const b = doc[i + 1]!;
        if (df[a]! < options.minDf || df[b]! < options.minDf) continue;
        const key = a * n + b;
        let slot = pairSlot.get(key);
        if (slot === undefined) {
          slot = pairKeys.length;
          pairSlot.set(key, slot);
          pairKeys.push(key);
          pairDf.push(0);
          pairLast.push(-1);
        }
        if (pairLast[slot] !== r) {
          pairLast[slot] = r;
          pairDf[slot]!++;
        }
      }
    });
  }
  // Candidates as [term, document frequency, word id or -1 - pair slot].
  const candidates: Array<[string, number, number]> = [];
  for (let id = 0; id < n; id++) if (df[id]! >= options.minDf) candidates.push([words[id]!, df[id]!, id]);
  pairKeys.forEach((key, slot) => {
    if (pairDf[slot]! >= options.minDf) candidates.push([`${words[Math.floor(key / n)]} ${words[key % n]}`, pairDf[slot]!, -1 - slot]);
  });
  const kept = candidates.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, options.size);
  const m = docs.length;
  const vocabulary = { terms: kept.map(([term]) => term), idf: Float64Array.from(kept, ([, count]) => Math.log((m + 1) / (count + 1))) };
  const wordColumn = new Int32Array(n).fill(-1);
  const pairColumn = new Map<number, number>();
  const startsPair = new Uint8Array(n);
  kept.forEach(([, , ref], c) => {
    if (ref >= 0) {
      wordColumn[ref] = c;
    } else {
      const key = pairKeys[-1 - ref]!;
      pairColumn.set(key, c);
      startsPair[Math.floor(key / n)] = 1;
    }
  });
  const rows = buildRows(vocabulary, ids.length, weighting, (r, visit) => {
    const doc = ids[r]!;
    for (let i = 0; i < doc.length; i++) {
      const a = doc[i]!;
      if (wordColumn[a]! >= 0) visit(wordColumn[a]!);
      if (startsPair[a] === 1 && i + 1 < doc.length) {
        const c = pairColumn.get(a * n + doc[i + 1]!);
        if (c !== undefined) visit(c);
      }
    }
  });
  return { vocabulary, rows };
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
 * `pairs` is given: the rows `fitTransform` gives the documents it was fitted on, for any documents.
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
