import { Option, type Command } from 'commander';
import { UserError } from '../../errors.ts';
import { isHourId, type HourId, hoursBetween } from '../../lake/layout.ts';
import type { HourSelection } from '../../etl/run.ts';
import type { EtlHourState } from '../../etl/state.ts';
import { printJson, println, type CliContext } from '../context.ts';

interface EtlOptions {
  lake?: string;
  hour?: string;
  from?: string;
  to?: string;
  all?: boolean;
  engine?: 'duckdb' | 'spark';
  json?: boolean;
}

/** Registers `openevents etl`. */
export function registerEtlCommands(program: Command, ctx: CliContext): void {
  program
    .command('etl')
    .summary('Turn raw hours into the curated Parquet tables')
    .description(
      'Turn raw hours into the curated Parquet tables (incremental and idempotent: an hour rerun replaces only its own partition). ' +
        'Without --hour/--from/--all it processes the pending hours: those never done, failed, or with raw objects newer than their last run.',
    )
    .option('--lake <dir|s3://bucket/prefix>', 'the lake (default: config "lake", ./lake)')
    .option('--hour <YYYY-MM-DDTHH>', 'process this one UTC arrival hour')
    .option('--from <YYYY-MM-DDTHH>', 'process the hours from this one ... (needs --to)')
    .option('--to <YYYY-MM-DDTHH>', '... to this one, both included')
    .option('--all', 'process every raw hour in the lake')
    .addOption(new Option('--engine <engine>', 'duckdb (in-process) or spark (spark-submit local[*]) (default: config "etl.engine", duckdb)').choices(['duckdb', 'spark']))
    .option('--json', 'print the run summary as JSON')
    .action(async (opts: EtlOptions) => {
      const config = ctx.config({ ...(opts.lake ? { lake: opts.lake } : {}), ...(opts.engine ? { etl: { engine: opts.engine } } : {}) });
      const select = selection(opts);
      // Services load when the command runs (DuckDB), not at CLI start.
      const { runEtl } = await import('../../etl/run.ts');
      const store = await ctx.runtime(config).lake({ mustExist: true });
      const progress = opts.json ? ctx.stderr : ctx.stdout;
      const result = await runEtl(store, {
        select,
        engine: config.etl.engine,
        signal: ctx.stopSignal,
        onHour: (s, i, n) => println(progress, hourLine(s, i, n)),
      });
      if (opts.json) printJson(ctx.stdout, result);
      else if (result.states.length === 0) println(ctx.stdout, 'nothing to do: no pending raw hours');
      else
        println(
          ctx.stdout,
          `${result.engine}: ${result.states.length} hour(s) in ${result.durationMs} ms: ${result.rawRecords} records, ` +
            `${result.validRecords} valid, ${result.quarantined} quarantined${result.failed.length ? `, ${result.failed.length} FAILED` : ''}` +
            `${result.stopped ? ' (stopped)' : ''}`,
        );
      if (result.failed.length > 0) {
        throw new UserError(`${result.failed.length} hour(s) failed: ${result.failed.join(', ')}`, {
          hint: `see the errors in ${store.url.replace(/\/$/, '')}/_state/etl/hours/<hour>.json and rerun with --hour`,
        });
      }
    });
}

function selection(opts: EtlOptions): HourSelection {
  const given = [opts.hour !== undefined, opts.from !== undefined || opts.to !== undefined, opts.all === true].filter(Boolean).length;
  if (given > 1) throw new UserError('choose one of --hour, --from/--to and --all');
  for (const [name, value] of [['--hour', opts.hour], ['--from', opts.from], ['--to', opts.to]] as const) {
    if (value !== undefined && !isHourId(value)) throw new UserError(`${name} must be an hour as YYYY-MM-DDTHH (UTC), got "${value}"`, { hint: 'e.g. --hour 2015-03-08T06' });
  }
  if (opts.hour) return { hours: [opts.hour] };
  if (opts.from !== undefined || opts.to !== undefined) {
    if (!opts.from || !opts.to) throw new UserError('--from and --to go together');
    const hours: HourId[] = hoursBetween(opts.from, opts.to);
    if (hours.length === 0) throw new UserError(`--from ${opts.from} is after --to ${opts.to}`);
    return { hours };
  }
  if (opts.all) return { all: true };
  return { pending: true };
}

function hourLine(s: EtlHourState, index: number, total: number): string {
  const head = `[${index + 1}/${total}] ${s.hour}`;
  if (s.status === 'failed') return `${head} FAILED: ${s.error ?? 'unknown error'}`;
  return `${head} ${s.rawRecords} records (${s.validRecords} valid, ${s.quarantined} quarantined) from ${s.rawObjects} object(s) in ${s.durationMs} ms`;
}
