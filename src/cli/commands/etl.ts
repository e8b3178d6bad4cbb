import { Option, type Command } from 'commander';
import { UserError } from '../../errors.ts';
import { isHourId, type HourId, hoursBetween } from '../../lake/layout.ts';
import type { EtlProgress, EtlResult, HourSelection } from '../../etl/run.ts';
import { ENGINE_NAMES } from '../../config/schema.ts';
import { type EngineName, type EtlHourState } from '../../etl/state.ts';
import { printJson, println, type CliContext } from '../context.ts';
import { ProgressLine, formatDuration, rateAndEta } from '../progress.ts';

interface EtlOptions {
  lake?: string;
  hour?: string;
  from?: string;
  to?: string;
  all?: boolean;
  engine?: EngineName;
  compact: boolean;
  restart?: boolean;
  json?: boolean;
}

/** Registers `openevents etl`. */
export function registerEtlCommands(program: Command, ctx: CliContext): void {
  program
    .command('etl')
    .summary('Turn raw hours into the curated Parquet tables')
    .description(
      'Turn raw hours into the curated Parquet tables: many hours per engine pass (batches bounded by etl.batchRecords/etl.batchBytes), ' +
        'each batch committed as it ends; an hour rerun replaces only its own rows. Without --hour/--from/--all it processes the pending hours: ' +
        'never done, failed, with raw objects newer than their last run, or whose curated files are missing. ' +
        'Running the same selection again after an interruption resumes it. Afterwards, closed days and months are compacted.',
    )
    .option('--lake <dir|s3://bucket/prefix>', 'the lake (default: config "lake", ./lake)')
    .option('--hour <YYYY-MM-DDTHH[,…]>', 'process this UTC arrival hour (or these, comma-separated)')
    .option('--from <YYYY-MM-DDTHH>', 'process the hours from this one ... (needs --to)')
    .option('--to <YYYY-MM-DDTHH>', '... to this one, both included')
    .option('--all', 'process every raw hour in the lake')
    .addOption(
      new Option('--engine <engine>', 'duckdb (in-process), spark (spark-submit local[*]) or emr (Spark as EMR steps, an s3:// lake) (default: config "etl.engine", duckdb)').choices([
        ...ENGINE_NAMES,
      ]),
    )
    .option('--no-compact', 'do not compact closed days and months after the run')
    .option('--restart', 'start the selection over instead of resuming an interrupted run of it')
    .option('--json', 'print the run summary as JSON (progress goes to stderr)')
    .action(async (opts: EtlOptions) => {
      const config = ctx.config({ ...(opts.lake ? { lake: opts.lake } : {}), ...(opts.engine ? { etl: { engine: opts.engine } } : {}) });
      const select = selection(opts);
      // Services load when the command runs (DuckDB), not at CLI start.
      const [{ runEtl }, { configuredEngine }] = await Promise.all([import('../../etl/run.ts'), import('../../etl/engines/configured.ts')]);
      const store = await ctx.runtime(config).lake({ mustExist: true });
      const engine = await configuredEngine(config, { cwd: ctx.cwd, env: ctx.env });
      const out = opts.json ? ctx.stderr : ctx.stdout;
      const progress = new ProgressLine(out);
      const result = await runEtl(store, {
        select,
        engine,
        batchRecords: config.etl.batchRecords,
        batchBytes: config.etl.batchBytes,
        graceMs: config.stream.hourGraceMs,
        compact: opts.compact,
        restart: opts.restart ?? false,
        signal: ctx.stopSignal,
        onHour: (s) => {
          if (s.status === 'failed') progress.log(hourLine(s));
        },
        onProgress: (p) => {
          if (p.batch) progress.log(batchLine(p));
          progress.update(progressText(config.etl.engine, p), p.phase === 'compaction');
        },
      });
      progress.done();
      for (const note of result.notes) println(out, note);
      if (opts.json) printJson(ctx.stdout, result);
      else println(ctx.stdout, summaryLine(result));
      if (result.failed.length > 0) {
        throw new UserError(`${result.failed.length} hour(s) failed: ${result.failed.slice(0, 10).join(', ')}${result.failed.length > 10 ? ', …' : ''}`, {
          hint: `see why above (or \`openevents lake ls\`), then rerun them with --hour or --from/--to`,
        });
      }
    });
}

function selection(opts: EtlOptions): HourSelection {
  const given = [opts.hour !== undefined, opts.from !== undefined || opts.to !== undefined, opts.all === true].filter(Boolean).length;
  if (given > 1) throw new UserError('choose one of --hour, --from/--to and --all');
  const hours = opts.hour?.split(',').map((h) => h.trim());
  for (const [name, value] of [...(hours ?? []).map((h) => ['--hour', h] as const), ['--from', opts.from], ['--to', opts.to]] as const) {
    if (value !== undefined && !isHourId(value)) throw new UserError(`${name} must be an hour as YYYY-MM-DDTHH (UTC), got "${value}"`, { hint: 'e.g. --hour 2015-03-08T06' });
  }
  if (hours) return { hours };
  if (opts.from !== undefined || opts.to !== undefined) {
    if (!opts.from || !opts.to) throw new UserError('--from and --to go together');
    const hours: HourId[] = hoursBetween(opts.from, opts.to);
    if (hours.length === 0) throw new UserError(`--from ${opts.from} is after --to ${opts.to}`);
    return { hours };
  }
  if (opts.all) return { all: true };
  return { pending: true };
}

/** The live progress line: hours and records done, rate, ETA; or the compaction step. */
export function progressText(engine: string, p: EtlProgress): string {
  if (p.phase === 'compaction' && p.compaction) {
    const { task, index, total } = p.compaction;
    return `compacting ${task.unit} (${index + 1}/${total}): ${task.segments.length} segments, ${task.hours.length} hours, ${task.records.toLocaleString('en-US')} records`;
  }
  const hours = `${p.hoursDone.toLocaleString('en-US')}/${p.hoursTotal.toLocaleString('en-US')} hours${p.hoursFailed ? ` (${p.hoursFailed} failed)` : ''}`;
  return `etl (${engine}): batch ${p.batchesDone}/${p.batchesTotal}, ${hours}, ${rateAndEta(p.recordsDone, p.recordsTotal, p.elapsedMs, 'records', true)}`;
}

function batchLine(p: EtlProgress): string {
  const b = p.batch!;
  const n = (x: number): string => x.toLocaleString('en-US');
  const range = b.hours.length === 1 ? b.hours[0] : `${b.hours[0]} … ${b.hours.at(-1)}`;
  return (
    `[batch ${p.batchesDone}/${p.batchesTotal}] ${range}: ${n(b.hours.length)} hour(s), ${n(b.records)} records ` +
    `(${n(b.valid)} valid, ${n(b.quarantined)} quarantined) in ${formatDuration(b.durationMs)}`
  );
}

function hourLine(s: EtlHourState): string {
  return `${s.hour} FAILED: ${s.error ?? 'unknown error'}`;
}

function summaryLine(r: EtlResult): string {
  if (r.states.length === 0 && r.compactions.length === 0) return r.resumed.length > 0 ? `nothing left to do: the interrupted run had finished every hour` : 'nothing to do: no pending raw hours';
  const compacted = r.compactions.length > 0 ? `; compacted ${r.compactions.length} unit(s) (${r.compactions.map((c) => c.unit).join(', ')})` : '';
  const snapshot = r.snapshotMs > 0 ? `; query snapshot updated in ${formatDuration(r.snapshotMs)}` : '';
  return (
    `${r.engine}: ${r.states.length} hour(s) in ${r.batches} batch(es), ${formatDuration(r.durationMs)}: ${r.rawRecords} records, ` +
    `${r.validRecords} valid, ${r.quarantined} quarantined${r.failed.length ? `, ${r.failed.length} FAILED` : ''}${compacted}${snapshot}${r.stopped ? ' (stopped: run it again to resume)' : ''}`
  );
}
