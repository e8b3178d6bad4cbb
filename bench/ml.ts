/**
 * npm run bench:ml — the classifier on real text and at scale:
 *   1. leave one region out on the real corpus (test/fixtures/meetup-rest-2015: MA, MD, PA), every
 *      model: accuracy, per-class F1, ROC AUC (mean ± std over regions), calibration (Brier, ECE;
 *      on names alone too) and training time per model (the same as `openevents ml evaluate --cv region`);
 *   2. a model trained on generated events only, scored on the whole real corpus;
 *   3. 50,000 generated descriptions: embedded training time per model (median of 3, target
 *      < 60 s) and prediction throughput (median of 5, target ≥ 5,000/s);
 *   4. Spark training time per model it has (rf, lr, nb) on the real corpus's group split, with its
 *      accuracy beside the embedded engine's on the same split (parity within 3 points).
 * Flags: --no-spark, --no-cv, --events <n> (generated events for 3; default 62,500 → ≈ 50,000 to
 * train on), --models lr,nb,… (default all). Times are wall-clock; CPU seconds are printed beside
 * them, since a shared machine's wall time says more about its load than about the code.
 */
import { promises as fs, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { crossValidate } from '../src/ml/cv.ts';
import { labelledDocsFromRaw } from '../src/ml/data.ts';
import { MODEL_KINDS, type LabelledDoc, type ModelKind } from '../src/ml/labels.ts';
import { computeMetrics } from '../src/ml/metrics.ts';
import { chooseRegParam, defaultParams, scorer, trainTextModel } from '../src/ml/model.ts';
import { sparkTrain } from '../src/ml/spark.ts';
import { applySplit, splitByGroup } from '../src/ml/split.ts';
import { createGenerator } from '../src/source/generator.ts';
import { REST_CORPUS } from '../test/helpers/fixtures.ts';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const withSpark = !args.includes('--no-spark');
const withCv = !args.includes('--no-cv');
const events = Number(flag('--events') ?? 62_500);
const models = (flag('--models')?.split(',') ?? [...MODEL_KINDS]) as ModelKind[];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const pm = (s: { mean: number; std: number }, d = 4): string => `${fmt(s.mean, d)} ± ${fmt(s.std, d)}`;

/** Wall and CPU seconds of a synchronous step. */
function timed<T>(step: () => T): { value: T; wall: number; cpu: number } {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = step();
  const c = process.cpuUsage(c0);
  return { value, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

const real = labelledDocsFromRaw(gunzipSync(readFileSync(REST_CORPUS)).toString('utf8')).docs;
console.log(`real corpus: ${real.length} events of ${new Set(real.map((d) => d.groupId)).size} groups`);

if (withCv) {
  console.log('\n1. leave one region out on the real corpus (mean ± std over MA, MD, PA)');
  console.log('model      accuracy           F1 outdoors        F1 tech            ROC AUC            Brier              ECE                names: acc / ECE   train s (wall / cpu)');
  const report = crossValidate(real, models.map((m) => defaultParams(m)), { scheme: 'region' });
  for (const m of report.models) {
    const s = m.summary;
    console.log(
      [
        m.model.padEnd(9),
        pm(s.accuracy).padEnd(18),
        pm(s.f1['outdoors-adventure']).padEnd(18),
        pm(s.f1.tech).padEnd(18),
        pm(s.rocAuc).padEnd(18),
        pm(s.brier).padEnd(18),
        pm(s.ece).padEnd(18),
        `${fmt(s.namesAccuracy.mean, 3)} / ${fmt(m.pooled.names.ece, 3)}`.padEnd(18),
        fmt(s.trainSeconds.mean, 1),
      ].join(' '),
    );
    console.log(`           per region: ${m.folds.map((f) => `${f.fold} ${fmt(f.metrics.accuracy, 4)}`).join(', ')}; pooled ECE ${fmt(m.pooled.calibration.ece, 4)}`);
  }
  console.log(`best: ${report.best}`);
}

// Generated events (the stream generator), labelled like the curated tables would label them.
function generatedDocs(count: number, seed: number): LabelledDoc[] {
  const lines: string[] = [];
  for (const record of createGenerator({ seed, count })) lines.push(record.line);
  return labelledDocsFromRaw(lines.join('\n')).docs;
}

{
  console.log('\n2. trained on generated events only (30,000 records of the stream generator), scored on the whole real corpus');
  const generated = generatedDocs(30_000, 1);
  for (const model of ['ensemble', 'lr', 'rf'] as const) {
    if (!models.includes(model)) continue;
    const score = scorer(trainTextModel(generated, defaultParams(model)));
    const m = computeMetrics(real.map((d) => d.label), score(real.map((d) => d.text)));
    console.log(`  ${model.padEnd(9)} ${generated.length} generated → real: accuracy ${fmt(m.accuracy, 4)}, ROC AUC ${fmt(m.rocAuc, 4)}`);
  }
}

{
  // Enough records that ≈ 62,500 distinct outdoors/tech events come out (≈ 16 % of the stream).
  console.log(`\n3. ${fmt(events, 0)} generated outdoors/tech events, split by group`);
  const docs: LabelledDoc[] = [];
  for (let seed = 1; docs.length < events; seed += 1) docs.push(...generatedDocs(Math.min(200_000, events * 8), seed * 101).map((d) => ({ ...d, eventId: `${seed}-${d.eventId}`, groupId: d.groupId * 100 + seed })));
  docs.length = events;
  const { train, test } = applySplit(docs, splitByGroup(docs, 0.2, 42));
  const meanChars = docs.reduce((s, d) => s + d.text.length, 0) / docs.length;
  console.log(`  ${fmt(train.length, 0)} training / ${fmt(test.length, 0)} test descriptions, ${fmt(meanChars, 0)} characters each on average`);
  const texts = test.map((d) => d.text);
  for (const model of models) {
    const params = defaultParams(model);
    const runs = [0, 1, 2].map(() => timed(() => trainTextModel(train, params)));
    const score = scorer(runs[0]!.value);
    let scores = score(texts);
    const timings = [0, 1, 2, 3, 4].map(() => {
      const t = timed(() => score(texts));
      scores = t.value;
      return t;
    });
    const rates = timings.map((t) => texts.length / t.wall);
    const cpuRates = timings.map((t) => texts.length / Math.max(1e-6, t.cpu));
    const m = computeMetrics(test.map((d) => d.label), scores);
    console.log(
      `  ${model.padEnd(9)} training median ${fmt(median(runs.map((r) => r.wall)), 1)} s wall (${runs.map((r) => fmt(r.wall, 1)).join(', ')}; cpu ${fmt(median(runs.map((r) => r.cpu)), 1)} s), target < 60 s; prediction median ${fmt(median(rates), 0)} descriptions/s (per CPU second ${fmt(median(cpuRates), 0)}), target ≥ 5,000; held-out groups accuracy ${fmt(m.accuracy, 4)}`,
    );
  }
}

if (withSpark) {
  console.log('\n4. Spark (spark-submit local[*], JVM start, test scoring and model save included) vs embedded, real corpus split by group');
  const { train, test } = applySplit(real, splitByGroup(real, 0.2, 42));
  for (const model of (['lr', 'nb', 'rf'] as const).filter((m) => models.includes(m))) {
    let params = defaultParams(model);
    if (model === 'lr') params = { ...params, regParam: chooseRegParam(train, params) };
    const embedded = timed(() => trainTextModel(train, params));
    const tsAccuracy = computeMetrics(test.map((d) => d.label), scorer(embedded.value)(test.map((d) => d.text))).accuracy;
    const t0 = performance.now();
    const result = await sparkTrain(train, test, params);
    const sparkSeconds = (performance.now() - t0) / 1000;
    await fs.rm(result.workDir, { recursive: true, force: true });
    const sparkAccuracy = computeMetrics(test.map((d) => d.label), test.map((d) => result.scores.get(d.eventId) ?? Number.NaN)).accuracy;
    console.log(
      `  ${model.padEnd(4)} spark ${fmt(sparkSeconds, 1)} s, accuracy ${fmt(sparkAccuracy, 4)} | embedded ${fmt(embedded.wall, 1)} s (cpu ${fmt(embedded.cpu, 1)} s), accuracy ${fmt(tsAccuracy, 4)} | difference ${fmt(Math.abs(sparkAccuracy - tsAccuracy) * 100, 2)} points`,
    );
  }
} else {
  console.log('\n4. spark: skipped (--no-spark)');
}
