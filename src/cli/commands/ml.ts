import { Option, type Command } from 'commander';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { CvReport, Spread } from '../../ml/cv.ts';
import { UserError } from '../../errors.ts';
import { DEFAULT_MODEL, LABELS, MODEL_KINDS, type ModelKind } from '../../ml/labels.ts';
import type { Metrics } from '../../ml/metrics.ts';
import type * as MlService from '../../ml/service.ts';

/** Services load when a command runs, not at CLI start (DuckDB, the forest, Spark glue). */
const services = (): Promise<typeof MlService> => import('../../ml/service.ts');
import { intOption, InvalidOptionError, numberOption, printJson, println, type CliContext } from '../context.ts';
import { progressLine } from './emr.ts';

interface TrainFlags {
  lake?: string;
  engine?: 'ts' | 'spark' | 'emr';
  model?: ModelKind;
  ngrams?: 1 | 2;
  regParam?: number;
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
  cv?: 'region' | 'group';
  models?: ModelKind[];
  folds?: number;
  minRegionEvents?: number;
  json?: boolean;
}

interface PredictFlags {
  lake?: string;
  run?: string;
  text?: string;
  input?: string;
  json?: boolean;
}

/** Texts scored per batch when reading many (the embedded model answers each batch at once). */
const PREDICT_BATCH = 2_000;

function modelList(value: string): ModelKind[] {
  const models = value.split(',').map((m) => m.trim()).filter((m) => m !== '');
  for (const m of models) if (!(MODEL_KINDS as readonly string[]).includes(m)) throw new InvalidOptionError(`unknown model "${m}" (models: ${MODEL_KINDS.join(', ')})`);
  return models as ModelKind[];
}

const LAKE_HELP = 'the lake: a folder or s3://bucket/prefix (default: config "lake", ./lake)';

/** Registers `ml train`, `ml evaluate` and `ml predict`. */
export function registerMlCommands(program: Command, ctx: CliContext): void {
  const ml = program
    .command('ml')
    .summary('The outdoors vs tech classifier')
    .description(
      `The classifier: outdoors-adventure vs tech groups from event text, embedded or on Spark. Models: ${MODEL_KINDS.join(', ')} (default ${DEFAULT_MODEL}; docs/ml.md compares them across regions).`,
    );

  ml.command('train')
    .summary('Train a classifier run on the curated tables')
    .description(
      'Train on the curated tables (events of category 23 and 34 groups), split train/test by group (seeded, stratified), and write a run to models/<run-id>/ with metrics.json.',
    )
    .option('--lake <dir|s3://bucket/prefix>', LAKE_HELP)
    .option(
      '--engine <ts|spark|emr>',
      'ts: embedded; spark: spark/jobs/ml.py via spark-submit on local[*] (lr, nb, rf); emr: the same job as an EMR step on a cluster of its own (lr, nb, rf; the lake in S3, settings in aws.emr), waited for (default: config "ml.engine", ts)',
    )
    .addOption(
      new Option('--model <model>', `lr: logistic regression; nb: naive Bayes; ensemble: both, averaged; rf: random forest (default: config "ml.model", ${DEFAULT_MODEL})`).choices(MODEL_KINDS),
    )
    .option('--vocabulary <n>', 'vocabulary size, terms by document frequency (default: config "ml.vocabularySize", else 20000; rf 2000)', intOption('--vocabulary', 1))
    .option('--min-df <n>', 'a term must occur in at least n training descriptions (default: 2; rf 3)', intOption('--min-df', 1))
    .addOption(new Option('--ngrams <n>', 'terms: 1 words, 2 words and word pairs (default: 2; rf 1)').choices(['1', '2']).argParser((v) => Number(v) as 1 | 2))
    .option('--reg-param <x>', 'lr: L2 penalty λ; 0 = chosen by inner cross-validation on the training side (default 0)', numberOption('--reg-param', 0))
    .option('--trees <n>', 'rf: trees in the forest (default: config "ml.trees", 100)', intOption('--trees', 1))
    .option('--max-depth <n>', 'rf: maximum tree depth (default: config "ml.maxDepth", 20; Spark caps it at 30)', intOption('--max-depth', 1))
    .option('--features-per-split <n>', 'rf: terms tried per split, 0 = sqrt(vocabulary) (default: config "ml.featuresPerSplit", 0)', intOption('--features-per-split', 0))
    .option('--seed <n>', 'seed of the split, bootstrap samples and feature choices (default: config "ml.seed", 42)', intOption('--seed', 0))
    .option('--json', "print the run's metrics.json")
    .action(async (flags: TrainFlags) => {
      const config = ctx.config({
        ...(flags.lake ? { lake: flags.lake } : {}),
        ml: {
          ...(flags.engine !== undefined ? { engine: flags.engine } : {}),
          ...(flags.model !== undefined ? { model: flags.model } : {}),
          ...(flags.trees !== undefined ? { trees: flags.trees } : {}),
          ...(flags.maxDepth !== undefined ? { maxDepth: flags.maxDepth } : {}),
          ...(flags.vocabulary !== undefined ? { vocabularySize: flags.vocabulary } : {}),
          ...(flags.featuresPerSplit !== undefined ? { featuresPerSplit: flags.featuresPerSplit } : {}),
          ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
        },
      });
      const { trainModel, paramsFromConfig } = await services();
      const store = await ctx.runtime(config).lake();
      const emr = config.ml.engine === 'emr' ? await emrTrainingOf(config) : undefined;
      const run = await trainModel(store, {
        engine: config.ml.engine,
        ...(emr ? { emr } : {}),
        params: paramsFromConfig(config.ml, {
          ...(flags.minDf !== undefined ? { minDf: flags.minDf } : {}),
          ...(flags.ngrams !== undefined ? { ngrams: flags.ngrams } : {}),
          ...(flags.regParam !== undefined ? { regParam: flags.regParam } : {}),
        }),
        spark: { signal: ctx.stopSignal },
      });
      if (flags.json) return printJson(ctx.stdout, run);
      println(ctx.stdout, `run ${run.runId} (${run.model ?? 'rf'}, ${run.engine}) → ${store.url}/models/${run.runId}/`);
      println(
        ctx.stdout,
        `  data: ${run.data.trainRows} train / ${run.data.testRows} test events, ${run.data.trainGroups} / ${run.data.testGroups} groups`,
      );
      for (const line of metricsLines(run.metrics)) println(ctx.stdout, `  ${line}`);
      if (run.calibration) println(ctx.stdout, `  calibration: Brier ${run.calibration.brier.toFixed(4)}, ECE ${run.calibration.ece.toFixed(4)}, log loss ${run.calibration.logLoss.toFixed(4)}`);
      println(ctx.stdout, `  top words: ${run.topWords.slice(0, 12).map((w) => w.word).join(', ')}`);
    });

  /** The EMR cluster of `--engine emr`: its progress goes to stderr (stdout stays the run, or its JSON). */
  const emrTrainingOf = async (config: ReturnType<CliContext['config']>) => {
    const { createEmrRunner, emrTraining } = await import('../../emr/service.ts');
    const { runner } = await createEmrRunner(config, { cwd: ctx.cwd, env: ctx.env });
    return emrTraining(runner, {
      onStart: (job) => println(ctx.stderr, `started cluster ${job.id} (${job.label}) for the training step`),
      onChange: (job) => println(ctx.stderr, progressLine(job)),
      signal: ctx.stopSignal,
    });
  };

  ml.command('evaluate')
    .summary('Score a run on its test split or a file of events')
    .description(
      "Score a run on its own test split or on a file of raw open_events lines (events of category 23/34 groups; HTML stripped; newest version per id). With --cv, cross-validate models instead: group k-fold, or leave one region (group state) out — accuracy, per-class F1, ROC AUC and calibration per fold and their spread; the result is kept in models/_cv/ and shown by the report.",
    )
    .option('--lake <dir|s3://bucket/prefix>', LAKE_HELP)
    .option('--run <id>', 'the run to score (default: the newest in models/)')
    .option('--input <file>', "raw open_events NDJSON, plain or gzip (default: the run's test split; with --cv: the curated tables)")
    .addOption(new Option('--cv <scheme>', 'cross-validate: region = leave one region out, group = stratified group k-fold').choices(['region', 'group']))
    .option('--models <list>', `with --cv: models to compare, comma-separated (default: ${MODEL_KINDS.join(',')})`, modelList)
    .option('--folds <n>', 'with --cv group: number of folds (default 5)', intOption('--folds', 2))
    .option('--min-region-events <n>', 'with --cv region: smaller regions are never left out, they always train (default 100)', intOption('--min-region-events', 1))
    .option('--json', 'print the evaluation as JSON')
    .action(async (flags: EvaluateFlags) => {
      const config = ctx.config(flags.lake ? { lake: flags.lake } : {});
      const { evaluateRun, crossValidateModels, paramsFromConfig } = await services();
      const store = await ctx.runtime(config).lake();
      if (flags.cv !== undefined) {
        const report = await crossValidateModels(store, {
          scheme: flags.cv,
          ...(flags.models ? { models: flags.models } : {}),
          ...(flags.folds !== undefined ? { folds: flags.folds } : {}),
          ...(flags.minRegionEvents !== undefined ? { minRegionEvents: flags.minRegionEvents } : {}),
          ...(flags.input !== undefined ? { input: flags.input } : {}),
          seed: config.ml.seed,
          params: (model) => paramsFromConfig(config.ml, { model }),
          onFold: flags.json
            ? undefined
            : (model, fold, index, total) =>
                ctx.stderr.write(`  ${model} ${fold.fold} (${index + 1}/${total}): accuracy ${fold.metrics.accuracy.toFixed(4)}, ${fold.trainSeconds.toFixed(1)} s\n`),
        });
        if (flags.json) return printJson(ctx.stdout, report);
        for (const line of cvLines(report)) println(ctx.stdout, line);
        println(ctx.stdout, `kept in ${store.url}/models/_cv/${report.id}.json`);
        return;
      }
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
    .summary('Classify a text with a run')
    .description(
      'Classify texts with a run: prints the class and its probability for each. One text with --text; many from stdin (one text a line) or from --input, a file of open_events NDJSON (plain or gzip; name + description of each event). Output: class, probability and the event id or text, tab-separated, in input order; --json: one JSON object a line.',
    )
    .option('--lake <dir|s3://bucket/prefix>', LAKE_HELP)
    .option('--run <id>', 'the run to ask (default: the newest in models/)')
    .option('--text <text>', 'one text: an event name and description')
    .option('--input <file>', 'events as NDJSON (plain or gzip); "-" reads events from stdin')
    .option('--json', 'JSON: one object for --text, else one object a line')
    .action(async (flags: PredictFlags) => {
      const config = ctx.config(flags.lake ? { lake: flags.lake } : {});
      const { predictor } = await services();
      const store = await ctx.runtime(config).lake();
      const { runId, predict } = await predictor(store, { ...(flags.run !== undefined ? { runId: flags.run } : {}), spark: { signal: ctx.stopSignal } });
      if (flags.text !== undefined) {
        const [result] = await predict([flags.text]);
        if (flags.json) return printJson(ctx.stdout, { runId, ...result });
        println(ctx.stdout, `${result!.label} ${result!.probability.toFixed(3)}`);
        return;
      }
      if (flags.input === undefined && ctx.stdin.isTTY) {
        throw new UserError('no text to classify', { hint: 'pass --text "…", pipe texts on stdin (one a line), or --input events.ndjson' });
      }
      const { eventTextOfLine } = await import('../../ml/data.ts');
      const source = flags.input === undefined || flags.input === '-' ? ctx.stdin : createReadStream(flags.input);
      const lines = createInterface({ input: flags.input !== undefined && flags.input !== '-' && flags.input.endsWith('.gz') ? source.pipe(createGunzip()) : source, crlfDelay: Infinity });
      const asEvents = flags.input !== undefined;
      let batch: Array<{ key: string; text: string }> = [];
      let skipped = 0;
      // A reader that stops early (`| head`) closes the pipe: stop reading, quietly.
      let closed = false;
      ctx.stdout.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPIPE') throw error;
        closed = true;
        lines.close();
      });
      let lineNo = 0;
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        const results = await predict(batch.map((b) => b.text));
        let out = '';
        batch.forEach((b, i) => {
          const r = results[i]!;
          out += flags.json
            ? JSON.stringify({ ...(asEvents ? { id: b.key } : { line: Number(b.key) }), label: r.label, probability: round(r.probability), tech: round(r.probabilities.tech) }) + '\n'
            : `${r.label}\t${r.probability.toFixed(3)}\t${asEvents ? b.key : oneLine(b.text)}\n`;
        });
        batch = [];
        if (closed) return;
        if (!ctx.stdout.write(out) && !closed) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              ctx.stdout.off('drain', done);
              ctx.stdout.off('close', done);
              ctx.stdout.off('error', done);
              resolve();
            };
            ctx.stdout.once('drain', done).once('close', done).once('error', done);
          });
        }
      };
      for await (const line of lines) {
        if (closed) break;
        lineNo++;
        if (line.trim() === '') continue;
        if (asEvents) {
          const event = eventTextOfLine(line);
          if (!event) {
            skipped++;
            continue;
          }
          batch.push({ key: event.id ?? `line ${lineNo}`, text: event.text });
        } else batch.push({ key: String(lineNo), text: line });
        if (batch.length >= PREDICT_BATCH && !runId.endsWith('-spark')) await flush();
      }
      await flush();
      if (skipped > 0) ctx.stderr.write(`skipped ${skipped} line(s) that are not events with a name or description\n`);
    });
}

const round = (x: number): number => Math.round(x * 1e4) / 1e4;

/** A text shortened to one line for the output's last column. */
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 79)}…` : flat;
}

/** Human-readable lines for a cross-validation: one row per model, then per-fold detail. */
function cvLines(report: CvReport): string[] {
  const f = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const pm = (s: Spread, d = 3): string => `${f(s.mean, d)} ± ${f(s.std, d)}`;
  const scheme = report.scheme === 'region' ? `leave one region out (${report.folds.join(', ')})` : `group ${report.folds.length}-fold`;
  const lines = [
    `${scheme} on ${report.rows} events of ${report.groups} groups (${report.source}); mean ± std over folds`,
    `model      accuracy        F1 outdoors     F1 tech         ROC AUC         Brier           ECE             names acc.      train s`,
  ];
  for (const m of report.models) {
    const s = m.summary;
    lines.push(
      [m.model.padEnd(9), pm(s.accuracy, 4).padEnd(15), pm(s.f1['outdoors-adventure']).padEnd(15), pm(s.f1.tech).padEnd(15), pm(s.rocAuc, 4).padEnd(15), pm(s.brier, 4).padEnd(15), pm(s.ece, 4).padEnd(15), pm(s.namesAccuracy).padEnd(15), f(s.trainSeconds.mean, 1)].join(' '),
    );
  }
  lines.push(`per fold (accuracy): ${report.models.map((m) => `${m.model} ${m.folds.map((fold) => `${fold.fold} ${f(fold.metrics.accuracy, 4)}`).join(', ')}`).join('; ')}`);
  lines.push(`best: ${report.best}`);
  return lines;
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
