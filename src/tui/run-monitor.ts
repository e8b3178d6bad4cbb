import type { CliContext } from '../cli/context.ts';
import type { Runtime } from '../config/runtime.ts';
import type { Config } from '../config/schema.ts';
import { auditedRunner, type ActionRunner } from './model/actions.ts';
import { createLocalPipeline } from './model/local.ts';
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
  const { sources, runner } = await resolvePipeline(options);
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
  const { sources } = await resolvePipeline({ ...options, readonly: true });
  const { stopSignal } = options.ctx;
  let last: PipelineSnapshot | undefined;
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
}

/** The model once (for `openevents status`). */
export async function loadStatus(options: Pick<RunMonitorOptions, 'ctx' | 'config' | 'sources' | 'runtime'>): Promise<PipelineSnapshot> {
  const { sources } = await resolvePipeline({ ...options, readonly: true });
  return refreshSnapshot(sources);
}

async function resolvePipeline(options: Pick<RunMonitorOptions, 'ctx' | 'config' | 'sources' | 'runner' | 'readonly' | 'jobEnv' | 'runtime'>): Promise<{
  sources: PipelineSources;
  runner: ActionRunner | undefined;
}> {
  if (options.sources) return { sources: options.sources, runner: options.readonly ? undefined : options.runner };
  const { config } = options;
  // On the aws profile with a lake in S3, the Jobs pane also shows the pipeline's EMR clusters.
  const emr = config.profile === 'aws' && config.lake.startsWith('s3://') ? (await import('../emr/service.ts')).createEmrRunner(config, { cwd: options.ctx.cwd, env: options.ctx.env }) : undefined;
  const pipeline = await createLocalPipeline({
    config,
    cwd: options.ctx.cwd,
    ...(options.jobEnv ? { jobEnv: options.jobEnv } : {}),
    ...(options.runtime ? { runtime: options.runtime } : {}),
    ...(emr ? { otherRunners: [(await emr).runner] } : {}),
  });
  const runner = options.readonly ? undefined : (options.runner ?? auditedRunner(pipeline.actions, pipeline.telemetry, pipeline.who));
  return { sources: pipeline.sources, runner };
}

/** Colours are on unless NO_COLOR is set to a non-empty value (https://no-color.org). */
export function colorsEnabled(env: NodeJS.ProcessEnv): boolean {
  return !env.NO_COLOR;
}
