import type { CliContext } from '../cli/context.ts';
import type { Runtime } from '../config/runtime.ts';
import type { Config } from '../config/schema.ts';
import { auditedRunner, type ActionRunner } from './model/actions.ts';
import { createLocalPipeline } from './model/local.ts';
import { createRuntime } from '../config/runtime.ts';
import { refreshSnapshot } from './model/snapshot.ts';
import type { PipelineSources } from './model/sources.ts';
import type { PipelineSnapshot } from './model/types.ts';
import { plainLine } from './plain.ts';

export interface RunMonitorOptions {
  /** Terminal streams, environment (NO_COLOR) and the stop signal (SIGINT/SIGTERM quits like `q`). */
  ctx: Pick<CliContext, 'stdout' | 'stdin' | 'stderr' | 'env' | 'cwd' | 'stopSignal'>;
  config: Config;
  /** The pipeline to watch; default: the local pipeline of `config`. */
  sources?: PipelineSources;
  /** Runs the actions; default with the default sources: local jobs, audited to the lake's telemetry. */
  runner?: ActionRunner;
  /** No actions at all. */
  readonly?: boolean;
  /** Extra environment for jobs the monitor starts (e.g. OPENEVENTS_CONFIG). */
  jobEnv?: Record<string, string>;
  /** The config's lake, telemetry and clients (the command's, so it flushes them at exit). */
  runtime?: Runtime;
}

/**
 * Shows the monitor full-screen on the context's terminal and resolves when the user quits
 * (`q`, Ctrl-C) or the stop signal fires. Jobs it started keep running. Without a terminal
 * (stdout or stdin not a TTY) it prints one plain line per refresh until the stop signal.
 * Use this from `openevents demo` to show the pipeline while it runs.
 */
export async function runMonitor(options: RunMonitorOptions): Promise<void> {
  const { ctx, config } = options;
  if (!(ctx.stdout.isTTY && ctx.stdin.isTTY)) {
    return runPlainMonitor({ ...options, write: (line) => void ctx.stdout.write(line + '\n') });
  }
  const { sources, runner, close } = await resolvePipeline(options);
  const { render, createElement, Monitor } = await loadInk();
  const stdout = ctx.stdout as NodeJS.WriteStream;
  const alternate = stdout.isTTY === true;
  // The alternate screen keeps the operator's scrollback intact, as full-screen tools do.
  if (alternate) stdout.write('\u001b[?1049h\u001b[H');
  try {
    await new Promise<void>((resolve) => {
      const instance = render(
        createElement(Monitor, {
          sources,
          ...(runner ? { runner } : {}),
          readonly: options.readonly === true,
          refreshMs: config.monitor.refreshMs,
          color: colorsEnabled(ctx.env),
          onQuit: () => instance.unmount(),
        }),
        {
          stdout,
          stdin: ctx.stdin as NodeJS.ReadStream,
          stderr: ctx.stderr as NodeJS.WriteStream,
          exitOnCtrlC: false,
          patchConsole: false,
          maxFps: 20,
        },
      );
      const stop = (): void => instance.unmount();
      ctx.stopSignal.addEventListener('abort', stop, { once: true });
      void instance.waitUntilExit().finally(() => {
        ctx.stopSignal.removeEventListener('abort', stop);
        resolve();
      });
    });
  } finally {
    if (alternate) stdout.write('\u001b[?1049l');
    await close();
  }
}

/**
 * Ink, React and the components, loaded on first use: React picks its build from NODE_ENV when
 * first imported, and its development build costs the monitor several times the CPU per frame.
 * Loading late also keeps them out of every other command's start-up.
 */
async function loadInk() {
  process.env.NODE_ENV ??= 'production';
  // Ink decides once, when loaded, whether it runs "in CI" (CI=true) and then draws only the last
  // frame at exit. The monitor is only ever drawn on an interactive terminal (stdin and stdout are
  // TTYs), where that guess is wrong — say, an operator's shell on a CI runner — so hide CI
  // while Ink loads.
  const ci = { CI: process.env.CI, CONTINUOUS_INTEGRATION: process.env.CONTINUOUS_INTEGRATION };
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
  try {
    const [{ render }, { createElement }, { Monitor }] = await Promise.all([import('ink'), import('react'), import('./components/Monitor.tsx')]);
    return { render, createElement, Monitor };
  } finally {
    for (const [key, value] of Object.entries(ci)) if (value !== undefined) process.env[key] = value;
  }
}

/**
 * Without a terminal: one plain line per refresh until the stop signal. `write` gets each line.
 */
export async function runPlainMonitor(options: RunMonitorOptions & { write: (line: string) => void }): Promise<void> {
  const { sources, close } = await resolvePipeline({ ...options, readonly: true });
  const { stopSignal } = options.ctx;
  let last: PipelineSnapshot | undefined;
  try {
    while (!stopSignal.aborted) {
      last = await refreshSnapshot(sources, last);
      options.write(plainLine(last));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, options.config.monitor.refreshMs);
        function done(): void {
          clearTimeout(timer);
          stopSignal.removeEventListener('abort', done);
          resolve();
        }
        stopSignal.addEventListener('abort', done, { once: true });
      });
    }
  } finally {
    await close();
  }
}

/** The model once (for `openevents status`). */
export async function loadStatus(options: Pick<RunMonitorOptions, 'ctx' | 'config' | 'sources' | 'runtime'>): Promise<PipelineSnapshot> {
  const { sources, close } = await resolvePipeline({ ...options, readonly: true });
  try {
    return await refreshSnapshot(sources);
  } finally {
    await close();
  }
}

/** The monitor's AWS calls: it polls, so the next poll is the retry; a dead endpoint shows as stale in seconds. */
export const MONITOR_AWS_RETRIES = { maxAttempts: 2, requestTimeoutMs: 5_000 } as const;
/** A remote lake is listed at most this often (each listing is a few LIST requests). */
export const REMOTE_LAKE_INTERVAL_MS = 5_000;
/**
 * CloudWatch Logs is polled at most this often: FilterLogEvents allows a few calls a second per
 * account and region, shared with every other reader; the streamer writes stats every 5 s.
 */
export const CLOUDWATCH_INTERVAL_MS = 2_500;
/** The EC2 streamer's instance state is asked this often. */
const INSTANCE_INTERVAL_MS = 5_000;
/** Kinesis shards change only when resharded: asked this often. */
const SHARDS_INTERVAL_MS = 15_000;

interface ResolvedPipeline {
  sources: PipelineSources;
  runner: ActionRunner | undefined;
  /** Closes what the monitor opened for itself (flushes its audit lines on the aws profile). */
  close(): Promise<void>;
}

/**
 * The composition root of the monitor: the only place that asks which profile it is on. Both
 * profiles get the same panes and keys; the aws profile plugs in its sources (CloudWatch Logs
 * through the runtime's telemetry reader, the S3 lake, EMR clusters in the Jobs pane, Kinesis
 * shards and the EC2 streamer in the Stream pane) and its actions (EMR runs, the EC2 streamer).
 */
async function resolvePipeline(options: Pick<RunMonitorOptions, 'ctx' | 'config' | 'sources' | 'runner' | 'readonly' | 'jobEnv' | 'runtime'>): Promise<ResolvedPipeline> {
  const close = async (): Promise<void> => {};
  if (options.sources) return { sources: options.sources, runner: options.readonly ? undefined : options.runner, close };
  const { config, ctx } = options;
  const base = {
    config,
    cwd: ctx.cwd,
    ...(options.jobEnv ? { jobEnv: options.jobEnv } : {}),
  };
  if (config.profile !== 'aws') {
    const pipeline = await createLocalPipeline({ ...base, ...(options.runtime ? { runtime: options.runtime } : {}) });
    const runner = options.readonly ? undefined : (options.runner ?? auditedRunner(pipeline.actions, pipeline.telemetry, pipeline.who));
    return { sources: pipeline.sources, runner, close };
  }
  // The monitor's own runtime: AWS clients that give up fast (see MONITOR_AWS_RETRIES).
  const runtime = createRuntime(config, { cwd: ctx.cwd, env: ctx.env, retries: MONITOR_AWS_RETRIES });
  const clients = await runtime.aws();
  const inS3 = config.lake.startsWith('s3://');
  const [{ createEmrRunner }, { emrSettings }, { ec2Streamer }, { awsActions, ec2StreamerHost, kinesisShards }] = await Promise.all([
    import('../emr/service.ts'),
    import('../emr/settings.ts'),
    import('../ec2/streamer.ts'),
    import('./model/aws.ts'),
  ]);
  // EMR steps and the EC2 streamer keep their state in the lake: both need it in S3.
  const emr = inS3 ? (await createEmrRunner(config, { cwd: ctx.cwd, env: ctx.env })).runner : undefined;
  const host = inS3 ? ec2StreamerHost(ec2Streamer(config, clients)) : undefined;
  const shards = cachedFor(SHARDS_INTERVAL_MS, async () => kinesisShards(await clients.client('kinesis'), config.aws.kinesis.stream));
  const pipeline = await createLocalPipeline({
    ...base,
    runtime,
    ...(emr ? { otherRunners: [emr] } : {}),
    stream: { kinesis: shards, ...(host ? { host: cachedFor(INSTANCE_INTERVAL_MS, () => host.find()) } : {}) },
    lakeIntervalMs: inS3 ? Math.max(config.monitor.refreshMs, REMOTE_LAKE_INTERVAL_MS) : 0,
    telemetryIntervalMs: Math.max(config.monitor.refreshMs, CLOUDWATCH_INTERVAL_MS),
    // EMR runs need the lake in S3; with a folder lake the keys run locally, as on the local profile.
    ...(emr ? { actions: (local, localRunner) => awsActions({ local, localRunner, emr, settings: emrSettings(config), ...(host ? { streamer: host } : {}) }) } : {}),
  });
  const runner = options.readonly ? undefined : (options.runner ?? auditedRunner(pipeline.actions, pipeline.telemetry, pipeline.who));
  return {
    sources: pipeline.sources,
    runner,
    close: async () => {
      for (const warning of await runtime.close()) ctx.stderr.write(`warning: ${warning}\n`);
    },
  };
}

/** `read`'s answer, reused for `ms` (a failure is not kept: the next call asks again). */
function cachedFor<T>(ms: number, read: () => Promise<T>): () => Promise<T> {
  let last: { atMs: number; value: Promise<T> } | undefined;
  return () => {
    if (last && Date.now() - last.atMs < ms) return last.value;
    const value = read();
    const entry = { atMs: Date.now(), value };
    last = entry;
    value.catch(() => {
      if (last === entry) last = undefined;
    });
    return value;
  };
}

/** Colours are on unless NO_COLOR is set to a non-empty value (https://no-color.org). */
export function colorsEnabled(env: NodeJS.ProcessEnv): boolean {
  return !env.NO_COLOR;
}
