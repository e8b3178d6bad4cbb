import type { Command } from 'commander';
import path from 'node:path';
import { intOption, printJson, println, type CliContext } from '../context.ts';
import { loadStatus, runMonitor } from '../../tui/run-monitor.ts';
import { statusText } from '../../tui/plain.ts';

interface MonitorOptions {
  lake?: string;
  refresh?: number;
  readonly?: boolean;
}

/**
 * Registers `monitor` and `status`, and makes `openevents` with no command open the monitor on a
 * terminal (and print help otherwise).
 */
export function registerMonitorCommands(program: Command, ctx: CliContext): void {
  const monitor = async (options: MonitorOptions): Promise<void> => {
    const config = ctx.config({ ...(options.lake ? { lake: options.lake } : {}), ...(options.refresh ? { monitor: { refreshMs: options.refresh } } : {}) });
    const jobEnv = configEnv(program, ctx);
    const base = { ctx, config, runtime: ctx.runtime(config), readonly: options.readonly === true, ...(jobEnv ? { jobEnv } : {}) };
    await runMonitor(base);
  };

  program
    .command('monitor')
    .summary('Watch the pipeline live, with one-key actions')
    .description('Watch the pipeline live in a full-screen terminal UI with one-key actions (plain lines when not on a terminal)')
    .option('--lake <location>', 'lake folder or s3://bucket/prefix (default: config lake, ./lake)')
    .option('--refresh <ms>', 'refresh interval in ms (default: config monitor.refreshMs, 1000)', intOption('--refresh', 100))
    .option('--readonly', 'disable every action (watch only)', false)
    .addHelpText(
      'after',
      `
Keys: s start/stop the streamer · e ETL for the selected hour · m train and evaluate the model ·
p build and publish the report (asks y/N) · r rerun the selected hour end to end (asks y/N) ·
b backfill failed and late hours (asks y/N) · arrows select · tab next pane · / filter logs ·
? help · q quit. Jobs run as background processes (state in <lake>/_state/jobs/) and keep running
after the monitor quits. Every action writes an audit line to telemetry. Colours follow NO_COLOR.
Running \`openevents\` with no command on a terminal opens the monitor.`,
    )
    .action(monitor);

  program
    .command('status')
    .summary('Print what the monitor shows, once')
    .description('Print what the monitor shows, once: stream, lake hours, jobs, recent logs')
    .option('--lake <location>', 'lake folder or s3://bucket/prefix (default: config lake, ./lake)')
    .option('--json', 'print the model as JSON', false)
    .action(async (options: { lake?: string; json?: boolean }) => {
      const config = ctx.config(options.lake ? { lake: options.lake } : {});
      const runtime = ctx.runtime(config);
      await runtime.lake({ mustExist: true });
      const snapshot = await loadStatus({ ctx, config, runtime });
      if (options.json) printJson(ctx.stdout, snapshot);
      else println(ctx.stdout, statusText(snapshot));
    });

  // `openevents` alone: the monitor on a terminal, the usual help otherwise.
  program.allowExcessArguments(true).action(async () => {
    const [unknown] = program.args;
    if (unknown !== undefined) program.error(`error: unknown command '${unknown}'`, { code: 'commander.unknownCommand' });
    if (ctx.stdout.isTTY && ctx.stdin.isTTY) await monitor({});
    else program.outputHelp();
  });
}

/** Jobs the monitor starts read the same config file as the monitor. */
function configEnv(program: Command, ctx: CliContext): Record<string, string> | undefined {
  const file = program.opts<{ config?: string }>().config;
  return file ? { OPENEVENTS_CONFIG: path.resolve(ctx.cwd, file) } : undefined;
}
