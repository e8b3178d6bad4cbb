import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { readTestSet } from '../../src/ml/runs.ts';
import { evaluateRun, paramsFromConfig, trainModel } from '../../src/ml/service.ts';
import { corpusDocs, generateCorpus } from '../helpers/ml-corpus.ts';
import { describeWith } from '../helpers/requires.ts';

let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'oe-ml-parity-'));
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describeWith(['java', 'venv'], 'engine parity', () => {
  it('the embedded and Spark engines, on the same data and split, differ by at most 3 accuracy points', async () => {
    // Given 1,200 generated events and one set of parameters (30 trees keeps Spark quick)
    const store = new LocalStore(dir);
    const docs = corpusDocs(generateCorpus({ events: 1200, seed: 13 }));
    const params = paramsFromConfig(configSchema.parse({}).ml, { trees: 30 });
    // When each engine trains a run on them (real spark-submit on local[*] for Spark)
    const ts = await trainModel(store, { engine: 'ts', params, docs, now: () => new Date('2026-01-01T00:00:00Z') });
    const spark = await trainModel(store, { engine: 'spark', params, docs, now: () => new Date('2026-01-01T00:00:01Z') });
    // Then both used the very same test events, and their accuracies are within 3 points
    expect((await readTestSet(store, spark.runId))!.map((d) => d.eventId)).toEqual((await readTestSet(store, ts.runId))!.map((d) => d.eventId));
    expect(spark.data).toEqual(ts.data);
    expect(spark.engine).toBe('spark');
    expect(Math.abs(spark.metrics.accuracy - ts.metrics.accuracy)).toBeLessThanOrEqual(0.03);
    expect(spark.metrics.accuracy).toBeGreaterThan(0.9);
    expect(spark.topWords.length).toBeGreaterThan(5);

    // And the saved Spark model, loaded again by Spark, reproduces the run's own numbers
    const again = await evaluateRun(store, { runId: spark.runId });
    expect(again.metrics).toEqual(spark.metrics);
    // Two spark-submits take ~40 s on an idle 2-core machine; allow for a busy one.
  }, 360_000);
});
