import type { Command } from 'commander';
import type { LandStats } from '../../transport/lander.ts';
import { escapeTerminal } from '../../text.ts';
import { intOption, printJson, println, type CliContext } from '../context.ts';

interface LandFlags {
  kinesisStream?: string;
  lake?: string;
  once?: boolean;
  rotateBytes?: number;
  rotateAge?: number;
  statsInterval?: number;
  json?: boolean;
  quiet?: boolean;
}

/** Registers `openevents land`: Kinesis stream → raw lake. */
export function registerLandCommands(program: Command, ctx: CliContext): void {
  program
    .command('land')
    .summary('Land a Kinesis stream in the raw lake, every shard')
    .description(
      'Land a Kinesis stream in the raw lake: every shard (closed parents before their children), objects raw/YYYY/MM/DD/HH/<shard>-<first>-<last>.ndjson.gz by arrival hour, one lander per shard (a lease); Ctrl-C publishes what was read and stops',
    )
    .option('--kinesis-stream <name>', 'the stream to land (default: config aws.kinesis.stream, openevents)')
    .option('--lake <dir>', 'lake folder or s3://bucket/prefix (default: config lake, ./lake)')
    .option('--once', 'land every shard this lander can take up to its current end, then exit (default: keep landing until stopped)')
    .option('--rotate-bytes <n>', 'publish an object at this compressed size (default: config stream.rotateBytes, 64 MiB)', intOption('--rotate-bytes', 1))
    .option('--rotate-age <ms>', 'publish an object at this age (default: config stream.rotateAgeMs, 60000)', intOption('--rotate-age', 1))
    .option('--stats-interval <ms>', 'report progress this often (default: config stream.statsIntervalMs, 5000)', intOption('--stats-interval', 1))
    .option('--json', 'print the final summary as JSON on stdout')
    .option('-q, --quiet', 'no progress lines on stderr')
    .action(async (flags: LandFlags) => {
      const config = ctx.config({
        ...(flags.lake !== undefined ? { lake: flags.lake } : {}),
        ...(flags.kinesisStream !== undefined ? { aws: { kinesis: { stream: flags.kinesisStream } } } : {}),
        stream: {
          ...(flags.rotateBytes !== undefined ? { rotateBytes: flags.rotateBytes } : {}),
          ...(flags.rotateAge !== undefined ? { rotateAgeMs: flags.rotateAge } : {}),
          ...(flags.statsInterval !== undefined ? { statsIntervalMs: flags.statsInterval } : {}),
        },
      });
      const { runLander } = await import('../../transport/lander.ts');
      const runtime = ctx.runtime(config);
      // Kinesis calls retry in the SDK (reads are safe to repeat); the lander retries past that from its checkpoints.
      const client = await (await runtime.aws()).client('kinesis');
      const store = await runtime.lake();
      const telemetry = await runtime.telemetry('land');
      const progress = (line: string): void => {
        if (!flags.quiet) println(ctx.stderr, `land: ${escapeTerminal(line)}`);
      };
      const summary = await runLander({
        client,
        stream: config.aws.kinesis.stream,
        store,
        settings: config.stream,
        once: flags.once ?? false,
        stopSignal: ctx.stopSignal,
        telemetry,
        onStats: (stats) => progress(formatLandStats(stats)),
        onNotice: (notice) => {
          if (notice.kind !== 'object') progress(notice.message);
        },
      });
      if (flags.json) printJson(ctx.stdout, summary);
      else println(ctx.stdout, `stopped (${summary.stoppedBy}): ${formatLandStats(summary)}`);
    });
}

/** One progress line (numbers and shard ids only). */
export function formatLandStats(s: LandStats): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  return `${n(s.records)} records landed (${n(s.recordsPerSec)}/s, ${(s.bytes / 1e6).toFixed(1)} MB) in ${n(s.objects)} objects, ${s.shards.length} shards held, lag ${n(s.lagMs)} ms, ${s.state}`;
}
