import { Option, type Command } from 'commander';
import type { RecordKind, TelemetryQuery, TelemetryRecord } from '../../telemetry/telemetry.ts';
import { escapeTerminal } from '../../text.ts';
import { intOption, println, type CliContext } from '../context.ts';

interface LogsFlags {
  lake?: string;
  since: string;
  follow?: boolean;
  filter?: string;
  component?: string;
  kind?: RecordKind;
  level?: 'debug' | 'info' | 'warn' | 'error';
  limit: number;
  interval: number;
  json?: boolean;
}

/** Registers `openevents logs`: the pipeline's telemetry, read back on either profile. */
export function registerLogsCommands(program: Command, ctx: CliContext): void {
  program
    .command('logs')
    .summary('Show the pipeline telemetry; --follow tails it')
    .description(
      'Show the pipeline\'s telemetry (logs, stats and audit records of every component): the JSON lines under the lake\'s _telemetry/ on the local profile, CloudWatch Logs (aws.logs.group) on the aws profile.',
    )
    .option('--lake <dir|s3://bucket/prefix>', 'the lake whose local telemetry to read (default: config "lake", ./lake)')
    .option('--since <when>', 'from this long ago (30s, 10m, 2h, 7d) or this time (2026-11-28T06:00Z)', '1h')
    .option('-f, --follow', 'keep printing records as they arrive (Ctrl-C stops)')
    .option('--filter <text>', 'only records containing this text (case-sensitive, anywhere in the record)')
    .option('--component <name>', 'only this component: stream, etl, monitor, demo, telemetry, …')
    .addOption(new Option('--kind <kind>', 'only this kind of record').choices(['log', 'stats', 'audit']))
    .addOption(new Option('--level <level>', 'only records at this level or above').choices(['debug', 'info', 'warn', 'error']))
    .option('--limit <n>', 'at most the newest n records of the history', intOption('--limit', 1), 200)
    .option('--interval <ms>', 'with --follow: how often to look for new records', intOption('--interval', 100), 1_000)
    .option('--json', 'one JSON record per line (NDJSON), as stored')
    .action(async (flags: LogsFlags) => {
      const config = ctx.config(flags.lake ? { lake: flags.lake } : {});
      const { followTelemetry, parseSince } = await import('../../telemetry/follow.ts');
      const query: TelemetryQuery = {
        sinceMs: parseSince(flags.since),
        limit: flags.limit,
        ...(flags.filter ? { text: flags.filter } : {}),
        ...(flags.component ? { component: flags.component } : {}),
        ...(flags.kind ? { kind: flags.kind } : {}),
        ...(flags.level ? { level: flags.level } : {}),
      };
      const reader = await ctx.runtime(config).telemetryReader();
      const print = (records: TelemetryRecord[]): void => {
        for (const r of records) println(ctx.stdout, flags.json ? JSON.stringify(r) : formatRecord(r));
      };
      if (flags.follow) await followTelemetry(reader, query, { signal: ctx.stopSignal, intervalMs: flags.interval, onRecords: print });
      else print(await reader.read(query));
    });
}

/** One record as a terminal line: time, level, component, kind, message, data (all escaped). */
export function formatRecord(r: TelemetryRecord): string {
  const kind = r.kind === 'log' ? '' : `[${r.kind}] `;
  const data = r.data && Object.keys(r.data).length > 0 ? ` ${JSON.stringify(r.data)}` : '';
  return escapeTerminal(`${r.ts} ${String(r.level).toUpperCase().padEnd(5)} ${String(r.component).padEnd(9)} ${kind}${r.msg}${data}`);
}
