import { Option, type Command } from 'commander';
import { UserError } from '../../errors.ts';
import { FAULT_SPEC_HELP, parseFaultSpec } from '../../source/faults.ts';
import { startSourceServer } from '../../source/server.ts';
import { intOption, numberOption, println, type CliContext } from '../context.ts';

interface ServeOptions {
  host?: string;
  port?: number;
  replay?: string[];
  generate?: boolean;
  count?: number;
  seed: number;
  startMs?: number;
  stepMs?: number;
  rate: number;
  faults?: string;
}

/** Registers `openevents source serve`. */
export function registerSourceCommands(program: Command, ctx: CliContext): void {
  const source = program.command('source').summary('A local open_events stream server: replay or generate').description('A local open_events stream server (replay captures or generate events)');
  source
    .command('serve')
    .summary('Serve the open_events stream protocol until Ctrl-C')
    .description('Serve the open_events stream protocol (GET /2/open_events, chunked NDJSON, since_mtime/since_count) until Ctrl-C')
    .option('--host <host>', 'interface to listen on (default: config source.host, 127.0.0.1)')
    .option('--port <n>', 'port; 0 picks a free one (default: config source.port, 8088)', intOption('--port'))
    .option('--replay <file...>', 'serve these NDJSON captures (plain or .gz), in order (HTTP header lines and a cut-off last line are skipped)')
    .option('--generate', 'serve generated events (realistic, deterministic for --seed)')
    .option('--count <n>', 'with --generate: stop after n events (default: endless)', intOption('--count', 1))
    .option('--seed <n>', 'seed for generated events and fault placement', intOption('--seed'), 1)
    .addOption(new Option('--start-ms <ms>', 'with --generate: mtime of the first event (default: now)').argParser(intOption('--start-ms')))
    .addOption(new Option('--step-ms <ms>', 'with --generate: ms between consecutive events\' mtimes (default: 1000/rate, or 100)').argParser(numberOption('--step-ms')))
    .option('--rate <events/s>', 'events per second on the shared timeline; 0 = as fast as the fastest client reads', numberOption('--rate'), 0)
    .option('--faults <spec>', 'inject faults (see below)')
    .addHelpText(
      'after',
      `
The stream is one timeline shared by all clients: a new connection gets events from now on, plus
catch-up with since_mtime=<ms> (published events with mtime >= ms) or since_count=<n> (the last n).
When the events run out the connection stays open, idle, like a quiet live stream.

--faults ${FAULT_SPEC_HELP}`,
    )
    .action(async (options: ServeOptions) => {
      if (Boolean(options.replay?.length) === Boolean(options.generate)) {
        throw new UserError('choose one source: --replay <file>... or --generate', { hint: 'e.g. openevents source serve --generate --rate 50' });
      }
      const generatorOnly = (['count', 'startMs', 'stepMs'] as const).filter((k) => options[k] !== undefined);
      if (options.replay?.length && generatorOnly.length > 0) {
        throw new UserError(`--${generatorOnly[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to --generate, not --replay`);
      }
      if (options.faults !== undefined) parseFaultSpec(options.faults); // a bad spec fails before listening
      const config = ctx.config({
        source: { ...(options.host !== undefined ? { host: options.host } : {}), ...(options.port !== undefined ? { port: options.port } : {}) },
      });
      const server = await startSourceServer({
        host: config.source.host,
        port: config.source.port,
        ...(options.replay?.length ? { replay: options.replay } : {}),
        ...(options.generate
          ? {
              generate: {
                seed: options.seed,
                ...(options.count !== undefined ? { count: options.count } : {}),
                startMs: options.startMs ?? Date.now(),
                stepMs: options.stepMs ?? (options.rate > 0 ? 1000 / options.rate : 100),
              },
            }
          : {}),
        rate: options.rate,
        seed: options.seed,
        ...(options.faults !== undefined ? { faults: options.faults } : {}),
      });
      println(ctx.stdout, `listening on ${server.url}`);
      await new Promise<void>((resolve) => {
        if (ctx.stopSignal.aborted) return resolve();
        ctx.stopSignal.addEventListener('abort', () => resolve(), { once: true });
      });
      const log = server.log();
      await server.close();
      println(ctx.stdout, `stopped: served ${log.events.length} events and ${log.injected.length} injected lines on ${log.connections.length} connections`);
    });
}
