import { trainForest, predictForest, type Forest } from './forest.ts';
import type { LabelledDoc } from './labels.ts';
import { tokenize } from './text.ts';
import { fitVocabulary, termIndex, transform, type Vocabulary } from './tfidf.ts';

/** Hyper-parameters of the text classifier (both engines read the same ones). */
export interface ModelParams {
  /** Vocabulary size (terms by document frequency). */
  vocabularySize: number;
  /** Minimum document frequency of a term. */
  minDf: number;
  trees: number;
  maxDepth: number;
  /** 0 means ceil(sqrt(vocabulary)). */
  featuresPerSplit: number;
  seed: number;
  /** Histogram bins per feature (Spark's maxBins). */
  maxBins: number;
}

/** The embedded model: vocabulary + IDF + forest. */
export interface TextModel {
  vocabulary: Vocabulary;
  forest: Forest;
}

/** A word and its share of the forest's impurity decrease. */
export interface WordImportance {
  word: string;
  importance: number;
}

/** Trains TF-IDF + random forest on labelled docs. Deterministic for a given seed. */
export function trainTextModel(docs: readonly LabelledDoc[], params: ModelParams): TextModel {
  const tokens = docs.map((d) => tokenize(d.text));
  const vocabulary = fitVocabulary(tokens, { size: params.vocabularySize, minDf: params.minDf });
  const x = transform(vocabulary, tokens);
  const y = Uint8Array.from(docs, (d) => d.label);
  const forest = trainForest(x, y, {
    trees: params.trees,
    maxDepth: params.maxDepth,
    featuresPerSplit: params.featuresPerSplit,
    seed: params.seed,
    maxBins: params.maxBins,
  });
  return { vocabulary, forest };
}

/** A scorer bound to a model: P(tech) per text. Build once, call many times. */
export function scorer(model: TextModel): (texts: readonly string[]) => Float64Array {
  const index = termIndex(model.vocabulary);
  return (texts) => predictForest(model.forest, transform(model.vocabulary, texts.map((t) => tokenize(t)), index));
}

/** The `n` words with the largest importance. */
export function topWords(model: TextModel, n = 20): WordImportance[] {
  return [...model.forest.importance]
    .map((importance, i) => ({ word: model.vocabulary.terms[i]!, importance }))
    .filter((w) => w.importance > 0)
    .sort((a, b) => b.importance - a.importance || (a.word < b.word ? -1 : 1))
    .slice(0, n);
}

/** Serialised form of a TextModel (typed arrays as base64): model.json of a run. */
export interface TextModelFile {
  format: 'openevents-tfidf-rf/1';
  terms: string[];
  idf: string;
  forest: { features: number } & Record<'roots' | 'feature' | 'threshold' | 'left' | 'right' | 'value' | 'importance', string>;
}

const b64 = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

function fromB64<T>(s: string, make: new (buffer: ArrayBuffer) => T): T {
  const bytes = Buffer.from(s, 'base64');
  return new make(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export function serializeModel(model: TextModel): TextModelFile {
  const f = model.forest;
  return {
    format: 'openevents-tfidf-rf/1',
    terms: model.vocabulary.terms,
    idf: b64(model.vocabulary.idf),
    forest: {
      features: f.features,
      roots: b64(f.roots),
      feature: b64(f.feature),
      threshold: b64(f.threshold),
      left: b64(f.left),
      right: b64(f.right),
      value: b64(f.value),
      importance: b64(f.importance),
    },
  };
}

export function deserializeModel(file: TextModelFile): TextModel {
  if (file.format !== 'openevents-tfidf-rf/1') throw new Error(`unknown model format ${String(file.format)}`);
  const f = file.forest;
  return {
    vocabulary: { terms: file.terms, idf: fromB64(file.idf, Float64Array) },
    forest: {
      features: f.features,
      roots: fromB64(f.roots, Int32Array),
      feature: fromB64(f.feature, Int32Array),
      threshold: fromB64(f.threshold, Float32Array),
      left: fromB64(f.left, Int32Array),
      right: fromB64(f.right, Int32Array),
      value: fromB64(f.value, Float32Array),
      importance: fromB64(f.importance, Float64Array),
    },
  };
}
