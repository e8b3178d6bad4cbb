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
import { runStreamer, type StreamStats } from '../stream/streamer.ts';
import type { TelemetrySink } from '../telemetry/telemetry.ts';

/**
 * The main job, `openevents demo`: the whole local pipeline on embedded defaults, no AWS.
 *
 *   1. import several hours of generated history into the raw lake (partitioned by mtime),
 *   2. run the ETL on those closed hours, train the classifier once enough labelled events
 *      exist, build the report — so a meaningful pipeline shows within a minute or two,
 *   3. serve a live generated stream on loopback and stream it into the lake, running the ETL
 *      on each hour as it closes,
 *   4. on stop (duration, signal, or the monitor quitting): flush the streamer, ETL what
 *      arrived, rebuild the report and return where it is.
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
  /** Live stream rate, events/s (default 50). */
  rate?: number;
  seed?: number;
  /** Where the live source listens (default 127.0.0.1, a free port). */
  host?: string;
  port?: number;
  /** Stop on this signal (Ctrl-C, --duration, the monitor quitting). */
  signal: AbortSignal;
  /** How often to ETL hours that closed while live (default 60 s). */
  etlEveryMs?: number;
  onStep?: (step: DemoStep) => void;
  onStats?: (stats: StreamStats) => void;
  /** Called once the live source is up, with its URL (the monitor's streamer key points there). */
  onLive?: (url: string) => void;
  now?: () => number;
}

export interface DemoStep {
  stage: 'history' | 'etl' | 'ml' | 'report' | 'source' | 'stream' | 'done';
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

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const now = options.now ?? Date.now;
  const step = (stage: DemoStep['stage'], message: string): void => {
    options.onStep?.({ stage, message });
    options.telemetry.emit({ level: 'info', component: 'demo', kind: 'log', msg: `${stage}: ${message}` });
  };
  const { store, config } = options;
  const seed = options.seed ?? 1;
  const historyHours = options.historyHours ?? 6;
  const perHour = options.eventsPerHour ?? 2_000;
  const result: DemoResult = { historyEvents: 0, liveEvents: 0, hoursProcessed: 0, reportLocation: undefined, modelRun: undefined, uniqueEvents: 0 };

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
  await etlPending(options, step, result);
  await trainIfReady(options, step, result);
  await report(options, step, result);
  if (options.signal.aborted) return finish(options, step, result);

  // 3. Live: a generated stream on loopback, streamed into the lake.
  const rate = options.rate ?? 50;
  let server: SourceServer | undefined;
  try {
    server = await startSourceServer({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      feed: generatorFeed({ seed: seed + 1, startMs: now(), stepMs: Math.max(1, Math.round(1000 / Math.max(rate, 1))) }),
      rate,
    });
    step('source', `live source at ${server.url} (${rate} events/s)`);
    options.onLive?.(server.url);
    const timer = setInterval(() => {
      void etlPending(options, step, result).catch((error: unknown) => step('etl', `failed: ${errorMessage(error)}`));
    }, options.etlEveryMs ?? 60_000);
    try {
      const summary = await runStreamer({
        url: server.url,
        store,
        settings: config.stream,
        writer: 'demo',
        stopSignal: options.signal,
        telemetry: options.telemetry,
        ...(options.onStats ? { onStats: options.onStats } : {}),
        onNotice: (notice) => step('stream', notice.message),
      });
      result.liveEvents = summary.durable;
      step('stream', `stopped: ${summary.durable.toLocaleString('en-US')} events durable, ${summary.duplicates} duplicates dropped, ${summary.invalid} quarantined`);
    } finally {
      clearInterval(timer);
    }
  } finally {
    await server?.close();
  }
  return finish(options, step, result);
}

/** After the live phase: the ETL over what arrived (the current hour too), then the report. */
async function finish(options: DemoOptions, step: (s: DemoStep['stage'], m: string) => void, result: DemoResult): Promise<DemoResult> {
  await etlPending(options, step, result);
  if (!result.modelRun) await trainIfReady(options, step, result);
  await report(options, step, result);
  const stats = await computeStats(options.store);
  result.uniqueEvents = stats.totals.uniqueEvents;
  step('done', `${stats.totals.eventsReceived.toLocaleString('en-US')} events received, ${stats.totals.uniqueEvents.toLocaleString('en-US')} unique; report: ${result.reportLocation ?? 'not built'}`);
  return result;
}

/** ETL runs of one demo, one at a time: the periodic run and the final one never race. */
const etlQueues = new WeakMap<DemoResult, Promise<void>>();

/** Runs the ETL on pending hours, after any run of this demo still in progress. */
async function etlPending(options: DemoOptions, step: (s: DemoStep['stage'], m: string) => void, result: DemoResult): Promise<void> {
  const run = async (): Promise<void> => {
    const etl = await runEtl(options.store, {
      select: { pending: true },
      engine: 'duckdb',
      onHour: (state, index, total) => step('etl', `${state.hour} ${state.status} (${index + 1}/${total}): ${state.validRecords ?? 0} records`),
    });
    result.hoursProcessed += etl.states.length;
  };
  const next = (etlQueues.get(result) ?? Promise.resolve()).then(run);
  etlQueues.set(result, next.catch(() => undefined));
  await next;
}

async function trainIfReady(options: DemoOptions, step: (s: DemoStep['stage'], m: string) => void, result: DemoResult): Promise<void> {
  if (!(await hasEnoughLabelledEvents(options.store))) {
    step('ml', 'not enough outdoors/tech events yet to train the classifier');
    return;
  }
  step('ml', 'training the classifier (outdoors-adventure vs tech)');
  const run = await trainModel(options.store, { engine: 'ts', params: paramsFromConfig(options.config.ml) });
  result.modelRun = run.runId;
  step('ml', `run ${run.runId}: accuracy ${run.metrics.accuracy.toFixed(3)}, ROC AUC ${run.metrics.rocAuc.toFixed(3)} on ${run.data.testRows} held-out events`);
}

async function report(options: DemoOptions, step: (s: DemoStep['stage'], m: string) => void, result: DemoResult): Promise<void> {
  const built = await buildReport(options.store);
  result.reportLocation = built.indexLocation;
  step('report', `built ${built.location} (${Math.round(built.bytes / 1024)} KiB)`);
}
