import type { Config } from '../config/schema.ts';
import { errorMessage } from '../errors.ts';
import { runEtl } from '../etl/run.ts';
import { computeStats } from '../etl/stats.ts';
import { hourIdOf } from '../lake/layout.ts';
import { importLines } from '../lake/import.ts';
import type { ObjectStore } from '../lake/store.ts';
import { hasEnoughLabelledEvents, paramsFromConfig, trainModel } from '../ml/service.ts';
import { buildReport } from '../report/build.ts';
import { createGenerator, generatorFeed } from '../source/generator.ts';
import { startSourceServer, type SourceServer } from '../source/server.ts';
import type { TelemetrySink } from '../telemetry/telemetry.ts';
import type { LocalJobRunner } from './local.ts';

/**
 * The main job, `openevents demo`: the whole local pipeline on embedded defaults, no AWS.
 *
 *   1. import several hours of generated history into the raw lake (partitioned by mtime),
 *   2. run the ETL on those closed hours, train the classifier once enough labelled events
 *      exist, build the report — so a meaningful pipeline shows within a minute or two,
 *   3. stream the live generated source (startDemoSource) into the lake with a streamer job,
 *      running the ETL every minute on hours with new data,
 *   4. on stop (duration, signal, or the monitor quitting): stop the streamer (it flushes), ETL
 *      what arrived, rebuild the report and return where it is.
 *
 * It never prints: each step is reported through `onStep` (and to telemetry), so the command
 * shows plain lines or the monitor.
 */
export interface DemoOptions {
  store: ObjectStore;
  config: Config;
  telemetry: TelemetrySink;
  /** Hours of generated history to import before going live (default 6). */
  historyHours?: number;
  /** Generated history events per hour (default 2,000). */
  eventsPerHour?: number;
  seed?: number;
  /** The live source the streamer reads (the command starts it; see startDemoSource). */
  liveUrl: string;
  /** Runs the streamer as a local job, like the monitor's `s` key. */
  runner: LocalJobRunner;
  /** The local lake folder (the streamer job's --lake). */
  lakeRoot: string;
  /** Stop on this signal (Ctrl-C, --duration, the monitor quitting). */
  signal: AbortSignal;
  /** How often to ETL hours that closed while live (default 60 s). */
  etlEveryMs?: number;
  onStep?: (step: DemoStep) => void;
  now?: () => number;
}

export interface DemoStep {
  /** `live` marks the start of live streaming (what --duration counts from). */
  stage: 'history' | 'etl' | 'ml' | 'report' | 'live' | 'stream' | 'done';
  message: string;
}

export interface DemoResult {
  historyEvents: number;
  liveEvents: number;
  hoursProcessed: number;
  reportLocation: string | undefined;
  modelRun: string | undefined;
  uniqueEvents: number;
}

/** One demo run: its options, how it reports a step, what it found, and its ETL queue. */
interface Run {
  options: DemoOptions;
  step: (stage: DemoStep['stage'], message: string) => void;
  result: DemoResult;
  /** The ETL runs one at a time: the periodic run and the final one never race. */
  etlQueue: Promise<void>;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const now = options.now ?? Date.now;
  const step = (stage: DemoStep['stage'], message: string): void => {
    options.onStep?.({ stage, message });
    options.telemetry.emit({ level: 'info', component: 'demo', kind: 'log', msg: `${stage}: ${message}` });
  };
  const { store } = options;
  const seed = options.seed ?? 1;
  const historyHours = options.historyHours ?? 6;
  const perHour = options.eventsPerHour ?? 2_000;
  const result: DemoResult = { historyEvents: 0, liveEvents: 0, hoursProcessed: 0, reportLocation: undefined, modelRun: undefined, uniqueEvents: 0 };
  const run: Run = { options, step, result, etlQueue: Promise.resolve() };

  // 1. History: hours before the current one, so they are closed and ready for the ETL.
  const currentHourStart = Math.floor(now() / 3_600_000) * 3_600_000;
  if (historyHours > 0) {
    const startMs = currentHourStart - historyHours * 3_600_000;
    const count = historyHours * perHour;
    step('history', `importing ${count.toLocaleString('en-US')} generated events over ${historyHours} h (${hourIdOf(startMs)} … ${hourIdOf(currentHourStart - 1)})`);
    // The generator's timeline runs evenly from startMs; record k "arrived" at its place on it.
    // Partition by that arrival hour, as the streamer would have: a record re-sent after a
    // reconnect has an old mtime but arrives now.
    const spanMs = historyHours * 3_600_000 - 1;
    let hour: string | undefined;
    let batch: string[] = [];
    const flush = async (): Promise<void> => {
      if (!hour || batch.length === 0) return;
      const imported = await importLines(store, batch, { partitionBy: 'arrival', arrivalHour: hour, writer: `demo-history-${seed}-${hour}`, now: now() });
      result.historyEvents += imported.records;
      batch = [];
    };
    let k = 0;
    for (const record of createGenerator({ seed, count, startMs, spanMs })) {
      const arrival = hourIdOf(startMs + Math.floor((k * spanMs) / count));
      k += 1;
      if (arrival !== hour) {
        await flush();
        hour = arrival;
      }
      batch.push(record.line);
    }
    await flush();
    step('history', `${result.historyEvents.toLocaleString('en-US')} events in ${historyHours} hours`);
  }

  // 2. Batch stages over what is there.
  await etlPending(run);
  await trainIfReady(run);
  await report(run);
  const receivedBeforeLive = (await computeStats(store)).totals.eventsReceived;

  // 3. Live: the streamer runs as a local job (the same job the monitor's `s` key starts and
  //    stops), reading the live source, until the demo is stopped.
  if (!options.signal.aborted) {
    const url = options.liveUrl;
    const runner = options.runner;
    const streamer = await runner.running('stream');
    if (streamer) step('live', `a streamer is already running (job ${streamer.id}); the demo stops it when it ends`);
    else {
      const job = await runner.start({
        kind: 'stream',
        label: `stream ${url}`,
        steps: [{ label: 'stream', args: ['stream', '--url', url, '--lake', options.lakeRoot, '--writer', 'demo', '--quiet'] }],
      });
      step('live', `streaming ${url} into the lake (job ${job.id})`);
    }
    const timer = setInterval(() => {
      void etlPending(run).catch((error: unknown) => step('etl', `failed: ${errorMessage(error)}`));
    }, options.etlEveryMs ?? 60_000);
    try {
      await new Promise<void>((resolve) => {
        if (options.signal.aborted) resolve();
        else options.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      clearInterval(timer);
    }
    // Stop whichever streamer runs now (the operator may have restarted it) and wait for its
    // flush: a SIGTERMed streamer writes its open file and checkpoint before it exits.
    const running = await runner.running('stream');
    if (running) {
      await runner.stop(running.id);
      const ended = await runner.wait(running.id, { timeoutMs: 120_000 });
      step('stream', `streamer ${ended.state}${ended.reason ? `: ${ended.reason}` : ''}`);
    }
  }
  const received = await finish(run);
  result.liveEvents = received - receivedBeforeLive;
  return result;
}

/**
 * After the live phase: the ETL over what arrived (the current hour too), the model if there was
 * none yet, the report, and a closing line with the stats. Returns the events received in all.
 */
async function finish(run: Run): Promise<number> {
  const { options, step, result } = run;
  await etlPending(run);
  if (!result.modelRun) await trainIfReady(run);
  await report(run);
  const stats = await computeStats(options.store);
  result.uniqueEvents = stats.totals.uniqueEvents;
  const top = (items: Array<{ name: string; count: number }>): string => items.slice(0, 3).map((i) => `${i.name} ${i.count}`).join(', ');
  step(
    'done',
    `${stats.totals.eventsReceived.toLocaleString('en-US')} events received, ${stats.totals.uniqueEvents.toLocaleString('en-US')} unique, ` +
      `${stats.totals.groups.toLocaleString('en-US')} groups, ${stats.totals.venues.toLocaleString('en-US')} venues; ` +
      `top categories: ${top(stats.top.categories)}; top group countries: ${top(stats.top.groupCountries)}; report: ${result.reportLocation ?? 'not built'}`,
  );
  return stats.totals.eventsReceived;
}

/** Runs the ETL on pending hours, after any run of this demo still in progress. */
async function etlPending(run: Run): Promise<void> {
  const { options, step, result } = run;
  const next = run.etlQueue.then(async () => {
    const etl = await runEtl(options.store, {
      select: { pending: true },
      engine: 'duckdb',
      onHour: (state, index, total) => step('etl', `${state.hour} ${state.status} (${index + 1}/${total}): ${state.validRecords} records`),
    });
    result.hoursProcessed += etl.states.length;
  });
  run.etlQueue = next.catch(() => undefined);
  await next;
}

async function trainIfReady({ options, step, result }: Run): Promise<void> {
  if (!(await hasEnoughLabelledEvents(options.store))) {
    step('ml', 'not enough outdoors/tech events yet to train the classifier');
    return;
  }
  step('ml', 'training the classifier (outdoors-adventure vs tech)');
  const run = await trainModel(options.store, { engine: 'ts', params: paramsFromConfig(options.config.ml) });
  result.modelRun = run.runId;
  // ROC AUC is undefined (NaN) when the held-out side has one class only.
  const auc = Number.isFinite(run.metrics.rocAuc) ? run.metrics.rocAuc.toFixed(3) : 'n/a';
  step('ml', `run ${run.runId}: accuracy ${run.metrics.accuracy.toFixed(3)}, ROC AUC ${auc} on ${run.data.testRows} held-out events`);
}

async function report({ options, step, result }: Run): Promise<void> {
  const built = await buildReport(options.store);
  result.reportLocation = built.indexLocation;
  step('report', `built ${built.location} (${Math.round(built.bytes / 1024)} KiB)`);
}

/**
 * The demo's live source: generated events at `rate` per second on loopback, mtimes from now.
 * Started before anything else so the monitor's streamer key points at it from the first frame.
 */
export function startDemoSource(options: { seed: number; rate: number; host?: string; port?: number; now?: number }): Promise<SourceServer> {
  const rate = Math.max(options.rate, 1);
  return startSourceServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    feed: generatorFeed({ seed: options.seed + 1, startMs: options.now ?? Date.now(), stepMs: Math.max(1, Math.round(1000 / rate)) }),
    rate,
  });
}
