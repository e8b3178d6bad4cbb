import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEtl } from '../../src/etl/run.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { computeMetrics } from '../../src/ml/metrics.ts';
import { readTestSet, type RunMetricsFile } from '../../src/ml/runs.ts';
import { paramsFromConfig, predictText, scoreDocs, trainModel } from '../../src/ml/service.ts';
import { configSchema } from '../../src/config/schema.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { loadCrossValidations } from '../../src/report/load.ts';
import { corpusNdjson, generateCorpus } from '../helpers/ml-corpus.ts';

let dir: string;
let store: LocalStore;
const events = generateCorpus({ events: 1200, seed: 5 });

beforeAll(async () => {
  // Given a lake whose raw hour holds 1,200 generated outdoors/tech events, run through the real ETL
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'oe-ml-cli-'));
  store = new LocalStore(dir);
  await store.put('raw/2015/03/08/12/gen-1-1200.ndjson', corpusNdjson(events));
  const etl = await runEtl(store, { select: { all: true } });
  expect(etl.validRecords).toBe(1200);
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Trains in-process with the CLI's defaults and 30 trees (the CLI itself is exercised once below). */
async function train(seed = 42): Promise<RunMetricsFile> {
  return trainModel(store, { engine: 'ts', params: paramsFromConfig(configSchema.parse({}).ml, { trees: 30, seed }) });
}

describe('openevents ml', () => {
  it('train writes a versioned run with metrics.json in the agreed shape, computed from its predictions', async () => {
    // When a run is trained with the command
    const cli = await runCli(['ml', 'train', '--lake', dir, '--trees', '30']);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    const runId = /^run (\S+) \(ensemble, ts\)/.exec(cli.stdout)?.[1] as string;
    const run = JSON.parse(await fs.readFile(path.join(dir, 'models', runId, 'metrics.json'), 'utf8'));
    // Then it prints the accuracy and the top words
    expect(cli.stdout).toContain(`accuracy ${run.metrics.accuracy.toFixed(3)}`);
    expect(cli.stdout).toContain(`top words: ${run.topWords[0].word}`);
    // And models/<run-id>/ holds the model, params, split, test set and metrics.json (as printed)
    const files = (await fs.readdir(path.join(dir, 'models', run.runId))).sort();
    expect(files).toEqual(['metrics.json', 'model.json', 'params.json', 'split.json', 'test-set.ndjson.gz']);
    const file = JSON.parse(await fs.readFile(path.join(dir, 'models', run.runId, 'metrics.json'), 'utf8'));
    expect(file).toEqual(run);
    expect(Object.keys(file).sort()).toEqual(['calibration', 'data', 'engine', 'metrics', 'model', 'params', 'runId', 'topWords', 'trainedAt']);
    expect(file.model).toBe('ensemble');
    expect(Object.keys(file.calibration).sort()).toEqual(['brier', 'ece', 'logLoss']);
    expect(file.engine).toBe('ts');
    expect(Object.keys(file.data).sort()).toEqual(['testGroups', 'testRows', 'trainGroups', 'trainRows']);
    expect(Object.keys(file.metrics).sort()).toEqual(['accuracy', 'confusionMatrix', 'perClass', 'rocAuc']);
    expect(Object.keys(file.metrics.perClass).sort()).toEqual(['outdoors-adventure', 'tech']);
    for (const c of Object.values(file.metrics.perClass) as object[]) expect(Object.keys(c).sort()).toEqual(['f1', 'precision', 'recall', 'support']);
    expect(file.metrics.confusionMatrix.labels).toEqual(['outdoors-adventure', 'tech']);
    expect(file.topWords.length).toBeGreaterThan(5);
    expect(Object.keys(file.topWords[0]).sort()).toEqual(['importance', 'points', 'word']);
    expect(file.params).toMatchObject({ model: 'ensemble', vocabularySize: 20_000, ngrams: 2, calibrate: true, seed: 42, testFraction: 0.2 });
    expect(file.params.regParam).toBeGreaterThan(0); // the penalty the inner cross-validation chose

    // And the data sizes cover every event and group once
    expect(file.data.trainRows + file.data.testRows).toBe(events.length);
    expect(file.data.trainGroups + file.data.testGroups).toBe(new Set(events.map((e) => e.group.id)).size);
    const matrix: number[][] = file.metrics.confusionMatrix.matrix;
    expect(matrix.flat().reduce((s, v) => s + v, 0)).toBe(file.data.testRows);

    // And the metrics are what the stored model's predictions on the stored test set give
    const testSet = (await readTestSet(store, run.runId))!;
    const scores = await scoreDocs(store, run.runId, testSet);
    expect(file.metrics).toEqual(JSON.parse(JSON.stringify(computeMetrics(testSet.map((d) => d.label), scores))));
    expect(file.metrics.accuracy).toBeGreaterThan(0.9);
  });

  it('training is reproducible for a seed: same model file and metrics, different run id', async () => {
    const a = await train(7);
    const b = await train(7);
    expect(b.runId).not.toBe(a.runId);
    expect(b.metrics).toEqual(a.metrics);
    const model = (id: string): Promise<string> => fs.readFile(path.join(dir, 'models', id, 'model.json'), 'utf8');
    expect(await model(b.runId)).toBe(await model(a.runId));
  });

  it('evaluate scores the newest run on its test split, or on a file of raw events', async () => {
    const run = await train(3);
    // When the newest run is evaluated without input
    const own = await runCli(['ml', 'evaluate', '--lake', dir, '--json']);
    expect(own.code).toBe(0);
    const ownResult = JSON.parse(own.stdout);
    // Then it is this run, on its test split, with the metrics it was trained with
    expect(ownResult).toMatchObject({ runId: run.runId, source: 'test-split', rows: run.data.testRows });
    expect(ownResult.metrics).toEqual(run.metrics);

    // Given raw NDJSON of events the lake never saw (another seed; one line in three repeated, one junk line)
    const fresh = generateCorpus({ events: 400, seed: 77 });
    const input = path.join(dir, 'fresh.ndjson');
    await fs.writeFile(input, 'junk\n' + corpusNdjson([...fresh, ...fresh.filter((_, i) => i % 3 === 0)]));
    // When evaluated on it
    const other = await runCli(['ml', 'evaluate', '--lake', dir, '--run', run.runId, '--input', input, '--json']);
    expect(other.code).toBe(0);
    const result = JSON.parse(other.stdout);
    // Then every distinct event is scored once, and the numbers are consistent with the 400 rows
    expect(result.rows).toBe(400);
    expect(result.read).toEqual({ lines: 400 + Math.ceil(400 / 3) + 1, unparsable: 1, unlabelled: 0, duplicates: Math.ceil(400 / 3) });
    expect(result.metrics.perClass.tech.support).toBe(fresh.filter((e) => e.group.category.id === 34).length);
    expect(result.metrics.accuracy).toBeGreaterThan(0.9);
  });

  it('predict prints the class and its probability', async () => {
    await train();
    const t = await predictText(store, 'Python and javascript developers: talks on cloud software, api design and databases');
    expect(t.label).toBe('tech');
    expect(t.probability).toBeGreaterThan(0.5);
    expect(t.probability).toBeCloseTo(t.probabilities.tech, 12);
    const hike = await runCli(['ml', 'predict', '--lake', dir, '--text', 'Hike to the summit: 8 miles on the ridge trail, bring water and boots']);
    expect(hike.stdout).toMatch(/^outdoors-adventure (0\.[5-9]\d\d|1\.000)\n$/);
  });

  it('explains what to do when there is no model or the engine is unknown', async () => {
    const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'oe-ml-empty-'));
    try {
      const none = await runCli(['ml', 'predict', '--lake', empty, '--text', 'hello']);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain('no trained model');
      expect(none.stderr).toContain('openevents ml train');
      await expect(trainModel(new LocalStore(empty), { engine: 'ts', params: paramsFromConfig(configSchema.parse({}).ml) })).rejects.toThrow(
        /not enough labelled events/,
      );
      const engine = await runCli(['ml', 'train', '--lake', empty, '--engine', 'torch']);
      expect(engine.code).toBe(1);
      expect(engine.stderr).toMatch(/ml\.engine/);
    } finally {
      await fs.rm(empty, { recursive: true, force: true });
    }
  });

  it('predict classifies many texts from stdin, one a line, and events from an NDJSON file', async () => {
    await train();
    // Given three texts piped in, one a line (a blank line is skipped)
    const child = spawnCli(['ml', 'predict', '--lake', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stdin!.end('Kayak trip on the river then camping by the lake\n\nPython developers talk about cloud databases and api design\nHike to the summit\n');
    const code = await new Promise((resolve) => child.once('exit', resolve));
    // Then one line each, in order: class, probability, the text
    expect(code).toBe(0);
    const rows = stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(rows.map((r) => r[0])).toEqual(['outdoors-adventure', 'tech', 'outdoors-adventure']);
    expect(rows.map((r) => r[2])).toEqual(['Kayak trip on the river then camping by the lake', 'Python developers talk about cloud databases and api design', 'Hike to the summit']);
    for (const r of rows) expect(Number(r[1])).toBeGreaterThan(0.5);

    // Given raw events as NDJSON (a line that is not an event is skipped and counted)
    const fresh = generateCorpus({ events: 50, seed: 8 });
    const input = path.join(dir, 'predict.ndjson');
    await fs.writeFile(input, corpusNdjson(fresh) + 'not json\n');
    const json = await runCli(['ml', 'predict', '--lake', dir, '--input', input, '--json']);
    expect(json.code).toBe(0);
    expect(json.stderr).toContain('skipped 1 line');
    const out = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
    // Then one JSON object per event, by id, in input order, P(tech) consistent with the class
    expect(out.map((o) => o.id)).toEqual(fresh.map((e) => e.id));
    for (const o of out) expect(o.label === 'tech' ? o.tech : 1 - o.tech).toBeCloseTo(o.probability, 3);
    const right = out.filter((o, i) => (o.label === 'tech') === (fresh[i]!.group.category.id === 34)).length;
    expect(right / out.length).toBeGreaterThan(0.85);
  });

  it('evaluate --cv group cross-validates models on the lake, keeps the result for the report; --cv region needs regions', async () => {
    // When two models are cross-validated with 3 group folds
    const cli = await runCli(['ml', 'evaluate', '--lake', dir, '--cv', 'group', '--models', 'nb,lr', '--folds', '3', '--json']);
    expect(cli.code).toBe(0);
    const report = JSON.parse(cli.stdout);
    // Then each model has three folds covering every event once, with metrics and their spread
    expect(report.scheme).toBe('group');
    expect(report.models.map((m: { model: string }) => m.model)).toEqual(['nb', 'lr']);
    for (const m of report.models) {
      expect(m.folds.map((f: { testRows: number }) => f.testRows).reduce((a: number, b: number) => a + b, 0)).toBe(events.length);
      expect(m.summary.accuracy.mean).toBeGreaterThan(0.85);
      expect(m.summary.accuracy.std).toBeGreaterThanOrEqual(0);
    }
    // And the report finds it in the lake
    const kept = await loadCrossValidations(store);
    expect(kept.map((c) => c.id)).toContain(report.id);

    // And leave-one-region-out says why it cannot run when all groups are in one region
    const region = await runCli(['ml', 'evaluate', '--lake', dir, '--cv', 'region', '--models', 'nb']);
    expect(region.code).toBe(1);
    expect(region.stderr).toMatch(/at least two regions/);
  });
});
