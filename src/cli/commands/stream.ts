import { Option, type Command } from 'commander';
import { escapeTerminal } from '../../text.ts';
import type { StreamStats } from '../../stream/streamer.ts';
import { SINK_KINDS, type SinkKind } from '../../transport/sinks.ts';
import { intOption, printJson, println, type CliContext } from '../context.ts';

interface StreamFlags {
  url?: string;
  lake?: string;
  maxEvents?: number;
  writer: string;
  json?: boolean;
  quiet?: boolean;
  stallTimeout?: number;
  resumeWindow?: number;
  rotateBytes?: number;
  rotateAge?: number;
  statsInterval?: number;
  sink: SinkKind;
  kinesisStream?: string;
  deliveryStream?: string;
}

/** Registers `openevents stream`: the streamer, source → raw lake. */
export function registerStreamCommands(program: Command, ctx: CliContext): void {
  program
    .command('stream')
    .summary('Stream open_events from a source into the raw lake')
    .description('Stream open_events from a source into the raw lake (reconnects, resumes, dedupes; Ctrl-C flushes and stops)')
    .option('--url <url>', 'stream URL (default: config source.url, http://127.0.0.1:8088/2/open_events); redirects are followed, HTTP_PROXY/HTTPS_PROXY/NO_PROXY honoured')
    .option('--lake <dir>', 'lake folder or s3://bucket/prefix (default: config lake, ./lake)')
    .option('--max-events <n>', 'exit 0 once this run has made n distinct events durable (default: run until stopped)', intOption('--max-events', 1))
    .option('--writer <id>', 'writer id: names raw files and the checkpoint _state/stream/<id>.json; one per running streamer', 'w1')
    .option('--stall-timeout <ms>', 'no bytes for this long counts as a broken connection (default: config stream.stallTimeoutMs, 30000)', intOption('--stall-timeout', 1))
    .option('--resume-window <ms>', 'resume with since_mtime = highest mtime − this (default: config stream.resumeWindowMs, 600000)', intOption('--resume-window', 0))
    .option('--rotate-bytes <n>', 'rotate the raw file at this compressed size (default: config stream.rotateBytes, 64 MiB)', intOption('--rotate-bytes', 1))
    .option('--rotate-age <ms>', 'rotate the raw file at this age (default: config stream.rotateAgeMs, 60000)', intOption('--rotate-age', 1))
    .option('--stats-interval <ms>', 'report stats this often (default: config stream.statsIntervalMs, 5000)', intOption('--stats-interval', 1))
    .addOption(
      new Option('--sink <kind>', 'where records go: lake (raw files), kinesis (PutRecords; `openevents land` lands them) or firehose (PutRecordBatch; Firehose writes S3 itself)')
        .choices(SINK_KINDS)
        .default('lake'),
    )
    .option('--kinesis-stream <name>', 'the Kinesis stream for --sink kinesis (default: config aws.kinesis.stream, openevents)')
    .option('--delivery-stream <name>', 'the Firehose delivery stream for --sink firehose (default: config aws.firehose.deliveryStream); point its S3 prefix at <lake>/raw/')
    .option('--json', 'print the final stats as JSON on stdout')
    .option('-q, --quiet', 'no progress lines on stderr')
    .action(async (flags: StreamFlags) => {
      const config = ctx.config({
        ...(flags.lake !== undefined ? { lake: flags.lake } : {}),
        ...(flags.url !== undefined ? { source: { url: flags.url } } : {}),
        aws: {
          ...(flags.kinesisStream !== undefined ? { kinesis: { stream: flags.kinesisStream } } : {}),
          ...(flags.deliveryStream !== undefined ? { firehose: { deliveryStream: flags.deliveryStream } } : {}),
        },
        stream: {
          ...(flags.stallTimeout !== undefined ? { stallTimeoutMs: flags.stallTimeout } : {}),
          ...(flags.resumeWindow !== undefined ? { resumeWindowMs: flags.resumeWindow } : {}),
          ...(flags.rotateBytes !== undefined ? { rotateBytes: flags.rotateBytes } : {}),
          ...(flags.rotateAge !== undefined ? { rotateAgeMs: flags.rotateAge } : {}),
          ...(flags.statsInterval !== undefined ? { statsIntervalMs: flags.statsInterval } : {}),
        },
      });
      // Loaded when the command runs, so other commands do not pay for the streamer's modules.
      const [{ runStreamer }, { openRemoteSink }] = await Promise.all([import('../../stream/streamer.ts'), import('../../transport/sinks.ts')]);
      const runtime = ctx.runtime(config);
      // The sink first: a wrong stream name, region or credentials fails with nothing written.
      const remote = await openRemoteSink(flags.sink, { kinesisStream: config.aws.kinesis.stream, deliveryStream: config.aws.firehose.deliveryStream }, runtime.awsOptions);
      try {
        const store = await runtime.lake();
        const telemetry = await runtime.telemetry('stream');
        const progress = (line: string): void => {
          if (!flags.quiet) println(ctx.stderr, `stream: ${escapeTerminal(line)}`);
        };
        const summary = await runStreamer({
          url: config.source.url,
          store,
          settings: config.stream,
          writer: flags.writer,
          ...(remote ? { sink: remote.sink } : {}),
          ...(flags.maxEvents !== undefined ? { maxEvents: flags.maxEvents } : {}),
          stopSignal: ctx.stopSignal,
          telemetry,
          onStats: (stats) => progress(formatStats(stats)),
          onNotice: (notice) => {
            if (notice.kind !== 'file') progress(notice.message);
          },
        });
        if (flags.json) printJson(ctx.stdout, summary);
        else println(ctx.stdout, `stopped (${summary.stoppedBy}): ${formatStats(summary)}`);
      } finally {
        remote?.destroy();
      }
    });
}

/** One progress line; every value is a number or a fixed word, so nothing stream-derived reaches the terminal. */
export function formatStats(s: StreamStats): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  return (
    `${n(s.events)} events (${n(s.durable)} durable, ${n(s.eventsPerSec)}/s, ${(s.bytesPerSec / 1e6).toFixed(1)} MB/s), ` +
    `${n(s.duplicates)} duplicates, ${n(s.invalid)} quarantined, ${n(s.reconnects)} reconnects, ${s.state}`
  );
}

