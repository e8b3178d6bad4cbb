/**
 * npm run bench:ml — the classifier's speed on 50,000 generated descriptions:
 *   - embedded (ts) training time, median of 3 runs (target < 60 s);
 *   - embedded prediction throughput in descriptions/s, median of 5 runs (target ≥ 5,000/s);
 *   - Spark training time on the same data and split, one run (it takes a while), including
 *     spark-submit's JVM start; and the ratio Spark / embedded.
 * Accuracy on the held-out groups is printed for both, and the embedded model's accuracy on the
 * real capture's outdoors/tech events (test/fixtures/meetup).
 * Flags: --no-spark, --events <n> (train side ≈ 80 %; default 62,500 → ≈ 50,000 to train on).
 */
import { promises as fs, readFileSync } from 'node:fs';
import { configSchema } from '../src/config/schema.ts';
import { labelledDocsFromRaw } from '../src/ml/data.ts';
import { computeMetrics } from '../src/ml/metrics.ts';
import { scorer, trainTextModel } from '../src/ml/model.ts';
import { paramsFromConfig } from '../src/ml/service.ts';
import { sparkTrain } from '../src/ml/spark.ts';
import { applySplit, splitByGroup } from '../src/ml/split.ts';
import { corpusDocs, generateCorpus } from '../test/helpers/ml-corpus.ts';
import { CAPTURE } from '../test/helpers/fixtures.ts';

const args = process.argv.slice(2);
const withSpark = !args.includes('--no-spark');
const eventsArg = args.indexOf('--events');
const events = eventsArg >= 0 ? Number(args[eventsArg + 1]) : 62_500;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const params = paramsFromConfig(configSchema.parse({}).ml);
// Real descriptions average about 200 words: the filler range makes the generated ones as long.
const docs = corpusDocs(generateCorpus({ events, seed: 2026, fillerWords: [80, 320] }));
const { train, test } = applySplit(docs, splitByGroup(docs, params.testFraction, params.seed));
const meanChars = docs.reduce((s, d) => s + d.text.length, 0) / docs.length;
console.log(`ml bench: ${train.length.toLocaleString('en-US')} training / ${test.length.toLocaleString('en-US')} test descriptions (split by group), ${fmt(meanChars, 0)} characters each on average`);
console.log(
  `params: ${params.trees} trees, max depth ${params.maxDepth}, vocabulary ${params.vocabularySize} (min df ${params.minDf}), features per split ${params.featuresPerSplit || 'sqrt'}, seed ${params.seed}`,
);

// Embedded: training (tokenise + vocabulary + TF-IDF + forest), median of 3.
const trainTimes: number[] = [];
let model = trainTextModel(train.slice(0, 2000), params); // warm-up (JIT)
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  model = trainTextModel(train, params);
  trainTimes.push((performance.now() - t0) / 1000);
}
const tsTrain = median(trainTimes);
console.log(`embedded training: median ${fmt(tsTrain, 2)} s of [${trainTimes.map((t) => fmt(t, 2)).join(', ')}] (target < 60 s)`);

// Embedded: prediction throughput, median of 5 over the test descriptions.
const score = scorer(model);
const texts = test.map((d) => d.text);
const rates: number[] = [];
let scores = score(texts);
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  scores = score(texts);
  rates.push(texts.length / ((performance.now() - t0) / 1000));
}
console.log(`embedded prediction: median ${fmt(median(rates), 0)} descriptions/s (target ≥ 5,000/s)`);
const tsMetrics = computeMetrics(test.map((d) => d.label), scores);
console.log(`embedded accuracy on held-out groups: ${fmt(tsMetrics.accuracy, 4)} (ROC AUC ${fmt(tsMetrics.rocAuc, 4)})`);

{
  const real = labelledDocsFromRaw(readFileSync(CAPTURE, 'utf8')).docs;
  const m = computeMetrics(real.map((d) => d.label), score(real.map((d) => d.text)));
  console.log(`embedded accuracy on the real capture's ${real.length} outdoors/tech events (trained on generated text): ${fmt(m.accuracy, 3)}`);
}

if (withSpark) {
  // Spark: one run (spark-submit on local[*], JVM start included) on the same split.
  const t0 = performance.now();
  const result = await sparkTrain(train, test, params);
  const sparkSeconds = (performance.now() - t0) / 1000;
  await fs.rm(result.workDir, { recursive: true, force: true });
  const sparkScores = test.map((d) => result.scores.get(d.eventId) ?? Number.NaN);
  const sparkMetrics = computeMetrics(test.map((d) => d.label), sparkScores);
  console.log(`spark training (1 run, incl. JVM start, test scoring and model save): ${fmt(sparkSeconds, 1)} s`);
  console.log(`spark accuracy on held-out groups: ${fmt(sparkMetrics.accuracy, 4)} (ROC AUC ${fmt(sparkMetrics.rocAuc, 4)})`);
  console.log(`ratio spark / embedded training time: ${fmt(sparkSeconds / tsTrain, 1)}×`);
} else {
  console.log('spark: skipped (--no-spark)');
}
