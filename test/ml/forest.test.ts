import { describe, expect, it } from 'vitest';
import { predictForest, trainForest } from '../../src/ml/forest.ts';
import type { LabelledDoc } from '../../src/ml/labels.ts';
import { defaultParams, deserializeModel, scorer, serializeModel, topWords, trainTextModel, type ModelParams } from '../../src/ml/model.ts';
import { Random } from '../../src/ml/random.ts';
import { sparse } from './sparse-rows.ts';
import { corpusDocs, generateCorpus } from '../helpers/ml-corpus.ts';

const params: ModelParams = { ...defaultParams('rf'), vocabularySize: 500, minDf: 2, trees: 20, maxDepth: 12, featuresPerSplit: 0, seed: 5, maxBins: 32 };

describe('trainForest', () => {
  it('learns a rule hidden among noise features, with a threshold on a nonzero value, and ranks that feature first', () => {
    // Given 400 rows of 30 sparse noise features, where class 1 ⇔ feature 7 > 1.5 (values 0, 1 or 2)
    const rng = new Random(3);
    const dense = Array.from({ length: 400 }, () => Array.from({ length: 30 }, () => (rng.next() < 0.2 ? 1 + rng.int(2) : 0)));
    const y = Uint8Array.from(dense, (row) => (row[7]! > 1.5 ? 1 : 0));
    // When a forest trains on them, trying every feature at each split
    const forest = trainForest(sparse(dense), y, { trees: 10, maxDepth: 6, featuresPerSplit: 30, seed: 1 });
    // Then it predicts fresh rows by the rule, and feature 7 carries nearly all the importance
    const fresh = [[0, 0, 0, 0, 0, 0, 0, 2], [0, 0, 0, 0, 0, 0, 0, 1], [1, 2, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 2]].map((r) => [...r, ...Array(22).fill(0)]);
    expect(Array.from(predictForest(forest, sparse(fresh)), (p) => (p > 0.5 ? 1 : 0))).toEqual([1, 0, 0, 1]);
    const ranked = Array.from(forest.importance.keys()).sort((a, b) => forest.importance[b]! - forest.importance[a]!);
    expect(ranked[0]).toBe(7);
    expect(forest.importance.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 9);
  });

  it('gives P = 1/2 with no trees and a probability in [0, 1] otherwise', () => {
    const x = sparse([[1, 0], [0, 1], [1, 1], [0, 0]]);
    const forest = trainForest(x, Uint8Array.from([1, 0, 1, 0]), { trees: 5, maxDepth: 3, featuresPerSplit: 0, seed: 2 });
    for (const p of predictForest(forest, x)) expect(p).toBeGreaterThanOrEqual(0), expect(p).toBeLessThanOrEqual(1);
    expect(Array.from(predictForest({ ...forest, roots: new Int32Array(0) }, x))).toEqual([0.5, 0.5, 0.5, 0.5]);
  });
});

describe('trainTextModel', () => {
  const docs: LabelledDoc[] = corpusDocs(generateCorpus({ events: 800, seed: 21 }));
  const texts = docs.slice(0, 200).map((d) => d.text);

  it('is reproducible for a seed: the same forest and predictions; another seed differs', () => {
    // When the same docs are trained on twice with one seed, and once with another
    const a = trainTextModel(docs, params);
    const b = trainTextModel(docs, params);
    const c = trainTextModel(docs, { ...params, seed: 6 });
    // Then the serialised models are identical and so are the predictions; the other seed's are not
    expect(serializeModel(b)).toEqual(serializeModel(a));
    expect(scorer(b)(texts)).toEqual(scorer(a)(texts));
    expect(serializeModel(c).forest!.feature).not.toEqual(serializeModel(a).forest!.feature);
  });

  it('round-trips through its file form with the same predictions', () => {
    const model = trainTextModel(docs, params);
    const copy = deserializeModel(JSON.parse(JSON.stringify(serializeModel(model))));
    expect(scorer(copy)(texts)).toEqual(scorer(model)(texts));
    expect(topWords(copy, 5)).toEqual(topWords(model, 5));
  });

  it('never uses a stop word or a label word as a feature', () => {
    const model = trainTextModel(docs, params);
    for (const word of ['tech', 'outdoors', 'adventure', 'the', 'und', 'los']) expect(model.vocabulary.terms).not.toContain(word);
  });
});
