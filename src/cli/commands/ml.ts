import type { Command } from 'commander';
import { LABELS } from '../../ml/labels.ts';
import type { Metrics } from '../../ml/metrics.ts';
import type * as MlService from '../../ml/service.ts';
import { DEFAULT_MIN_DF } from '../../ml/tfidf.ts';

/** Services load when a command runs, not at CLI start (DuckDB, the forest, Spark glue). */
const services = (): Promise<typeof MlService> => import('../../ml/service.ts');
import { intOption, printJson, println, type CliContext } from '../context.ts';

interface TrainFlags {
  lake?: string;
  engine?: 'ts' | 'spark';
  trees?: number;
  maxDepth?: number;
  vocabulary?: number;
  featuresPerSplit?: number;
  minDf?: number;
  seed?: number;
  json?: boolean;
}

interface EvaluateFlags {
  lake?: string;
  run?: string;
  input?: string;
  json?: boolean;
}

interface PredictFlags {
  lake?: string;
  run?: string;
  text: string;
  json?: boolean;
}

const LAKE_HELP = 'the lake: a folder or s3://bucket/prefix (default: config "lake", ./lake)';

/** Registers `ml train`, `ml evaluate` and `ml predict`. */
export function registerMlCommands(program: Command, ctx: CliContext): void {
  const ml = program
    .command('ml')
    .description('The classifier: outdoors-adventure vs tech groups from event text (TF-IDF + random forest), embedded or on Spark.');

  ml.command('train')
    .description(
      'Train on the curated tables (events of category 23 and 34 groups), split train/test by group (seeded, stratified), and write a run to models/<run-id>/ with metrics.json.',
    )
    .option('--lake <dir|s3://bucket/prefix>', LAKE_HELP)
    .option('--engine <ts|spark>', 'ts: the embedded random forest; spark: spark/jobs/ml.py via spark-submit on local[*] (default: config "ml.engine", ts)')
    .option('--trees <n>', 'trees in the forest (default: config "ml.trees", 100)', intOption('--trees', 1))
    .option('--max-depth <n>', 'maximum tree depth (default: config "ml.maxDepth", 20; Spark caps it at 30)', intOption('--max-depth', 1))
    .option('--vocabulary <n>', 'vocabulary size, terms by document frequency (default: config "ml.vocabularySize", 2000)', intOption('--vocabulary', 1))
    .option('--features-per-split <n>', 'terms tried per split, 0 = sqrt(vocabulary) (default: config "ml.featuresPerSplit", 0)', intOption('--features-per-split', 0))
    .option('--min-df <n>', `a term must occur in at least n training descriptions (default: ${DEFAULT_MIN_DF})`, intOption('--min-df', 1))
    .option('--seed <n>', 'seed of the split, bootstrap samples and feature choices (default: config "ml.seed", 42)', intOption('--seed', 0))
    .option('--json', "print the run's metrics.json")
    .action(async (flags: TrainFlags) => {
      const config = ctx.config({
        ...(flags.lake ? { lake: flags.lake } : {}),
        ml: {
          ...(flags.engine !== undefined ? { engine: flags.engine } : {}),
          ...(flags.trees !== undefined ? { trees: flags.trees } : {}),
          ...(flags.maxDepth !== undefined ? { maxDepth: flags.maxDepth } : {}),
          ...(flags.vocabulary !== undefined ? { vocabularySize: flags.vocabulary } : {}),
          ...(flags.featuresPerSplit !== undefined ? { featuresPerSplit: flags.featuresPerSplit } : {}),
          ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
        },
      });
      const { trainModel, paramsFromConfig } = await services();
      const store = await ctx.runtime(config).lake();
      const run = await trainModel(store, {
        engine: config.ml.engine,
        params: paramsFromConfig(config.ml, flags.minDf !== undefined ? { minDf: flags.minDf } : {}),
        spark: { signal: ctx.stopSignal },
      });
      if (flags.json) return printJson(ctx.stdout, run);
      println(ctx.stdout, `run ${run.runId} (${run.engine}) → ${store.url}/models/${run.runId}/`);
      println(
        ctx.stdout,
        `  data: ${run.data.trainRows} train / ${run.data.testRows} test events, ${run.data.trainGroups} / ${run.data.testGroups} groups`,
      );
      for (const line of metricsLines(run.metrics)) println(ctx.stdout, `  ${line}`);
      println(ctx.stdout, `  top words: ${run.topWords.slice(0, 12).map((w) => w.word).join(', ')}`);
    });

  ml.command('evaluate')
    .description("Score a run on its own test split, or on a file of raw open_events lines (events of category 23/34 groups; HTML stripped; newest version per id).")
    .option('--lake <dir|s3://bucket/prefix>', LAKE_HELP)
    .option('--run <id>', 'the run to score (default: the newest in models/)')
    .option('--input <file>', 'raw open_events NDJSON, plain or gzip (default: the run\'s test split)')
    .option('--json', 'print the evaluation as JSON')
    .action(async (flags: EvaluateFlags) => {
      const config = ctx.config(flags.lake ? { lake: flags.lake } : {});
      const { evaluateRun } = await services();
      const store = await ctx.runtime(config).lake();
      const result = await evaluateRun(store, {
        ...(flags.run !== undefined ? { runId: flags.run } : {}),
        ...(flags.input !== undefined ? { input: flags.input } : {}),
        spark: { signal: ctx.stopSignal },
      });
      if (flags.json) return printJson(ctx.stdout, result);
      println(ctx.stdout, `run ${result.runId} (${result.engine}) on ${result.source}: ${result.rows} events`);
      if (result.read) {
        const r = result.read;
        println(ctx.stdout, `  read ${r.lines} lines: ${r.unlabelled} of other categories, ${r.duplicates} repeated ids, ${r.unparsable} unparsable`);
      }
      for (const line of metricsLines(result.metrics)) println(ctx.stdout, `  ${line}`);
    });

  ml.command('predict')
    .description('Classify a text with a run: prints the class and its probability.')
    .option('--lake <dir|s3://bucket/prefix>', LAKE_HELP)
    .option('--run <id>', 'the run to ask (default: the newest in models/)')
    .requiredOption('--text <text>', 'the text: an event name and description')
    .option('--json', 'print the prediction as JSON')
    .action(async (flags: PredictFlags) => {
      const config = ctx.config(flags.lake ? { lake: flags.lake } : {});
      const { predictText } = await services();
      const store = await ctx.runtime(config).lake();
      const result = await predictText(store, flags.text, {
        ...(flags.run !== undefined ? { runId: flags.run } : {}),
        spark: { signal: ctx.stopSignal },
      });
      if (flags.json) return printJson(ctx.stdout, result);
      println(ctx.stdout, `${result.label} ${result.probability.toFixed(3)}`);
    });
}

/** Human-readable lines for a metrics block. */
function metricsLines(m: Metrics): string[] {
  const f = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
  const width = Math.max(...LABELS.map((l) => l.length));
  const lines = [`accuracy ${f(m.accuracy)}   ROC AUC ${f(m.rocAuc)}`, `${''.padEnd(width)}  precision  recall  f1     support`];
  for (const label of LABELS) {
    const c = m.perClass[label];
    lines.push(`${label.padEnd(width)}  ${f(c.precision).padEnd(9)}  ${f(c.recall).padEnd(6)}  ${f(c.f1).padEnd(5)}  ${c.support}`);
  }
  const [[tn, fp], [fn, tp]] = m.confusionMatrix.matrix as [[number, number], [number, number]];
  lines.push(`confusion (rows actual, columns predicted; ${LABELS.join(', ')}): [[${tn}, ${fp}], [${fn}, ${tp}]]`);
  return lines;
}
