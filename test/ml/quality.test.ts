import { describe, expect, it } from 'vitest';
import { computeMetrics } from '../../src/ml/metrics.ts';
import { scorer, trainTextModel } from '../../src/ml/model.ts';
import { paramsFromConfig } from '../../src/ml/service.ts';
import { applySplit, splitByGroup } from '../../src/ml/split.ts';
import { configSchema } from '../../src/config/schema.ts';
import { corpusDocs, generateCorpus } from '../helpers/ml-corpus.ts';
import { createGenerator } from '../../src/source/generator.ts';
import { labelledDocsFromRaw } from '../../src/ml/data.ts';

describe('classifier quality on generated data with a group split', () => {
  it('reaches at least 0.95 accuracy with the default parameters', () => {
    // Given 3,000 generated events split by group (no group on both sides)
    const docs = corpusDocs(generateCorpus({ events: 3000, seed: 99 }));
    const params = paramsFromConfig(configSchema.parse({}).ml);
    const { train, test } = applySplit(docs, splitByGroup(docs, params.testFraction, params.seed));
    // When the embedded model trains on one side and scores the other
    const model = trainTextModel(train, params);
    const scores = scorer(model)(test.map((d) => d.text));
    // Then accuracy on unseen groups is at least 0.95, and both classes are recalled
    const m = computeMetrics(test.map((d) => d.label), scores);
    expect(m.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(m.rocAuc).toBeGreaterThanOrEqual(0.95);
    expect(m.perClass.tech.recall).toBeGreaterThan(0.9);
    expect(m.perClass['outdoors-adventure'].recall).toBeGreaterThan(0.9);
  });

  it("reaches at least 0.95 accuracy on the source generator's events (the demo's stream)", () => {
    // Given 20,000 records of the project's stream generator, as raw lines; about 3,000 are
    // distinct outdoors/tech events, split by group
    const lines: string[] = [];
    for (const record of createGenerator({ seed: 1, count: 20_000 })) lines.push(record.line);
    const { docs } = labelledDocsFromRaw(lines.join('\n'));
    expect(docs.length).toBeGreaterThan(2500);
    const params = paramsFromConfig(configSchema.parse({}).ml);
    const { train, test } = applySplit(docs, splitByGroup(docs, params.testFraction, params.seed));
    // When trained on one side and scored on the other
    const model = trainTextModel(train, params);
    const m = computeMetrics(test.map((d) => d.label), scorer(model)(test.map((d) => d.text)));
    // Then accuracy on unseen groups is at least 0.95
    expect(m.accuracy).toBeGreaterThanOrEqual(0.95);
  }, 600_000);
});
