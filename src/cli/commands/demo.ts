import type { Command } from 'commander';
import path from 'node:path';
import type { DemoStep } from '../../jobs/demo.ts';
import { STATE } from '../../lake/layout.ts';
import type { TelemetrySource } from '../../telemetry/telemetry.ts';
import { UserError } from '../../errors.ts';
import { escapeTerminal } from '../../text.ts';
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
    .summary('Run the local pipeline end to end, then stream live')
    .description('Run the local pipeline end to end: generated history → ETL → model → report, then a live stream (Ctrl-C stops)')
    .option('--lake <dir>', 'lake folder (default: config lake, ./lake)')
    .option('--duration <s>', 'stop after this many seconds of live streaming (default: until Ctrl-C, or q in the monitor)', numberOption('--duration', 0))
    .option('--history-hours <n>', 'hours of generated history to import first', intOption('--history-hours', 0), 6)
    .option('--events-per-hour <n>', 'generated history events per hour', intOption('--events-per-hour', 1), 2000)
    .option('--rate <n>', 'live stream rate, events/s', numberOption('--rate', 1), 50)
    .option('--seed <n>', 'generator seed (same seed, same events)', intOption('--seed', 0), 1)
    .option('--no-monitor', 'plain progress lines even on a terminal')
    .option('--json', 'print the final summary as JSON on stdout (implies --no-monitor)')
    .action(async (flags: DemoFlags) => {
      const config = ctx.config(flags.lake !== undefined ? { lake: flags.lake } : {});
      if (config.profile !== 'local') {
        throw new UserError(`the demo runs the local profile; the config says profile "${config.profile}"`, {
          hint: 'run with OPENEVENTS_PROFILE=local',
        });
      }
      // The pipeline's modules load when the demo runs, not at CLI start.
      const { runDemo, startDemoSource } = await import('../../jobs/demo.ts');
      const { LocalJobRunner } = await import('../../jobs/local.ts');
      const { runMonitor } = await import('../../tui/run-monitor.ts');
      const runtime = ctx.runtime(config);
      const store = await runtime.lake();
      const root = store.localPath('');
      if (!root) throw new UserError('the demo needs a local lake folder', { hint: 'pass --lake ./lake' });
      const [telemetry, telemetryReader] = await Promise.all([runtime.telemetry('demo'), runtime.telemetryReader()]);
      const runner = new LocalJobRunner({ dir: path.join(root, STATE, 'jobs'), cwd: ctx.cwd });

      // Stops on Ctrl-C/SIGTERM, on --duration after going live, or when the monitor quits.
      const stop = new AbortController();
      const onStop = (): void => stop.abort();
      ctx.stopSignal.addEventListener('abort', onStop, { once: true });
      const timers: NodeJS.Timeout[] = [];

      const source = await startDemoSource({ seed: flags.seed, rate: flags.rate });
      const liveConfig = { ...config, lake: root, source: { ...config.source, url: source.url } };
      const useMonitor = flags.monitor && !flags.json && ctx.stdout.isTTY === true && ctx.stdin.isTTY === true;
      let monitorOpen = useMonitor;
      const monitor = useMonitor
        ? runMonitor({ ctx: { ...ctx, stopSignal: stop.signal }, config: liveConfig, runtime }).finally(() => {
            monitorOpen = false;
            onStop();
          })
        : undefined;
      // While the monitor is up its Logs pane shows the steps; before and after, plain lines.
      const onStep = (s: DemoStep): void => {
        if (!monitorOpen && !flags.json) println(ctx.stderr, `demo ${s.stage}: ${escapeTerminal(s.message)}`);
        if (s.stage === 'live' && flags.duration !== undefined) {
          // --duration counts live streaming, from the moment the streamer starts.
          timers.push(setTimeout(onStop, flags.duration * 1000));
        }
      };
      if (!monitor && !flags.json) {
        println(ctx.stderr, `demo: live source at ${source.url} (${flags.rate} events/s); lake ${root}`);
        timers.push(setInterval(() => void streamLine(telemetryReader, (line) => println(ctx.stderr, line)), 10_000));
      }
      try {
        const result = await runDemo({
          store,
          config: liveConfig,
          telemetry,
          runner,
          lakeRoot: root,
          liveUrl: source.url,
          historyHours: flags.historyHours,
          eventsPerHour: flags.eventsPerHour,
          seed: flags.seed,
          signal: stop.signal,
          onStep,
        });
        if (flags.json) printJson(ctx.stdout, result);
        else println(ctx.stdout, `report: ${result.reportLocation ?? 'not built'}`);
      } finally {
        for (const timer of timers) clearTimeout(timer);
        stop.abort();
        ctx.stopSignal.removeEventListener('abort', onStop);
        await monitor;
        await source.close();
      }
    });
}

/** One progress line from the streamer job's newest stats record. */
async function streamLine(telemetry: TelemetrySource, write: (line: string) => void): Promise<void> {
  const [stats] = await telemetry.read({ kind: 'stats', component: 'stream', sinceMs: Date.now() - 30_000, limit: 1 });
  const d = stats?.data;
  if (!d) return;
  write(`demo stream: ${String(d.events)} events, ${Number(d.eventsPerSec).toFixed(0)}/s, ${String(d.reconnects)} reconnects, ${String(d.duplicates)} duplicates, state ${String(d.state)}`);
}
