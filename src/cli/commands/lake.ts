import type { Command } from 'commander';
import { UserError, isErrnoCode } from '../../errors.ts';
import { escapeTerminal } from '../../text.ts';
import type { EtlHourState } from '../../etl/state.ts';
import type { CheckReport } from '../../lake/check.ts';
import type { RawHour } from '../../lake/hours.ts';
import type { PartitionBy } from '../../lake/import.ts';
import { InvalidOptionError, printJson, println, type CliContext } from '../context.ts';
import { ProgressLine, rateAndEta } from '../progress.ts';

/** Registers `openevents lake import`, `openevents lake ls` and `openevents lake check`. */
export function registerLakeCommands(program: Command, ctx: CliContext): void {
  const lake = program.command('lake').summary('The raw lake: import, list, check and repair hours').description('Raw lake: import captures or Firehose bucket copies, list hours, check and repair');

  lake
    .command('import')
    .summary('Import captures or Firehose bucket copies')
    .description('Import NDJSON captures (optionally gzipped) or Firehose bucket copies (YYYY/MM/DD/HH/ folders) into the raw lake')
    .argument('<file...>', 'capture files or folders (walked recursively)')
    .option('--lake <dir>', 'lake folder or s3://bucket/prefix (default: config lake, ./lake)')
    .option('--partition-by <how>', 'arrival: the YYYY/MM/DD/HH folder a file sits in, else the current hour; mtime: each event by its mtime hour', parsePartition, 'arrival')
    .option('--json', 'print the result as JSON')
    .action(async (files: string[], flags: { lake?: string; partitionBy: PartitionBy; json?: boolean }) => {
      const config = ctx.config(flags.lake !== undefined ? { lake: flags.lake } : {});
      const { importFiles } = await import('../../lake/import.ts');
      const store = await ctx.runtime(config).lake();
      const progress = new ProgressLine(ctx.stderr);
      const started = Date.now();
      const results = await importFiles(store, files, {
        partitionBy: flags.partitionBy,
        maxRecordBytes: config.stream.maxRecordBytes,
        hourGraceMs: config.stream.hourGraceMs,
        onProgress: (p) =>
          progress.update(
            `import: ${p.filesDone}/${p.filesTotal} files, ${p.records.toLocaleString('en-US')} records (${p.quarantined} quarantined), ` +
              rateAndEta(p.bytesDone / 1e6, p.bytesTotal / 1e6, Date.now() - started, 'MB'),
            p.filesDone === p.filesTotal,
          ),
      }).catch((error: unknown) => {
        // An input named on the command line that is not there.
        if (isErrnoCode(error, 'ENOENT')) throw new UserError(`cannot read ${(error as { path?: string }).path ?? 'input'}: no such file or folder`, { cause: error, hint: 'check the file paths' });
        throw error;
      });
      progress.done();
      if (flags.json) printJson(ctx.stdout, results);
      for (const r of results) {
        if (flags.json) break;
        const name = escapeTerminal(r.source ?? r.writer);
        if (r.error !== undefined) {
          println(ctx.stdout, `${name}: not imported: ${escapeTerminal(r.error)}`);
          continue;
        }
        println(
          ctx.stdout,
          `${name}: ${r.records} records into ${r.hours.length} hour(s) (${r.objects.length} objects), ` +
            `${r.quarantined} quarantined, skipped ${r.skipped.headers} header / ${r.skipped.cutOff} cut-off lines` +
            (r.removed.length > 0 ? `, replaced ${r.removed.length} objects of an earlier import` : ''),
        );
      }
      const failed = results.filter((r) => r.error !== undefined);
      if (failed.length > 0) {
        throw new UserError(
          `${failed.length} of ${results.length} files could not be imported: ${failed.map((r) => `${escapeTerminal(r.source ?? '')} (${escapeTerminal(r.error ?? '')})`).join(', ')}`,
          { hint: 'the other files were imported; mend or copy the named files again and import them (importing a file again replaces what it imported before)' },
        );
      }
    });

  lake
    .command('ls')
    .summary('List raw hours: files, records, bytes, ETL state')
    .description('List raw hours with files, records and bytes (closed hours from their manifest) and their ETL state: when, engine, records, quarantined')
    .option('--lake <dir>', 'lake folder or s3://bucket/prefix (default: config lake, ./lake)')
    .option('--json', 'print the hours as JSON')
    .action(async (flags: { lake?: string; json?: boolean }) => {
      const config = ctx.config(flags.lake !== undefined ? { lake: flags.lake } : {});
      const [{ listRawHours }, { readEtlState }] = await Promise.all([import('../../lake/hours.ts'), import('../../etl/state.ts')]);
      const store = await ctx.runtime(config).lake({ mustExist: true });
      const [raw, etl] = await Promise.all([listRawHours(store), readEtlState(store)]);
      const etlByHour = new Map(etl.hours.map((h) => [h.hour, h]));
      const hours: LakeHour[] = raw.map((h) => ({ ...h, etl: etlByHour.get(h.hour) ?? null }));
      if (flags.json) return printJson(ctx.stdout, hours);
      for (const line of formatHours(hours)) println(ctx.stdout, line);
    });

  lake
    .command('check')
    .summary('Verify the lake like fsck; --repair mends it')
    .description(
      'Verify the lake like fsck: raw files against their manifests (record counts, gzip integrity), curated partitions against the ETL state ' +
        '(present, readable), state and manifest JSON, stray temporary files. Exits 1 when anything is wrong.',
    )
    .option('--lake <dir>', 'lake folder or s3://bucket/prefix (default: config lake, ./lake)')
    .option('--repair', 'mend what can be rebuilt from the raw data: manifests, curated hours (by running the ETL for them again), temporary files; raw data is never deleted')
    .option('--json', 'print the report as JSON')
    .action(async (flags: { lake?: string; repair?: boolean; json?: boolean }) => {
      const config = ctx.config(flags.lake !== undefined ? { lake: flags.lake } : {});
      const { checkLake } = await import('../../lake/check.ts');
      const store = await ctx.runtime(config).lake({ mustExist: true });
      const tty = (ctx.stderr as { isTTY?: boolean }).isTTY === true && !flags.json;
      const report = await checkLake(store, {
        repair: flags.repair === true,
        hourGraceMs: config.stream.hourGraceMs,
        ...(tty ? { onProgress: (done: number, total: number) => ctx.stderr.write(`\rchecking raw hours: ${done}/${total}${done === total ? '\n' : ''}`) } : {}),
      });
      if (flags.json) printJson(ctx.stdout, report);
      else for (const line of formatCheck(report)) println(ctx.stdout, line);
      const left = report.findings.filter((f) => !f.repaired);
      if (left.length === 0) return;
      const errors = left.filter((f) => f.severity === 'error').length;
      const mendable = left.filter((f) => f.repair !== undefined).length;
      const what = `${count(left.length, 'problem')} (${count(errors, 'error')}, ${count(left.length - errors, 'warning')})`;
      if (flags.repair) {
        throw new UserError(`${what} left after the repair`, { hint: 'each says what would mend it; raw data that is gone or damaged must be restored from a copy' });
      }
      throw new UserError(`${what}${mendable > 0 ? `; \`openevents lake check --repair\` mends ${mendable} of them` : ''}`, {
        hint: mendable > 0 && mendable < left.length ? 'the others need raw data restored from a copy (see each line)' : 'each line says what would mend it',
      });
    });
}

/** The `lake check` report as lines: one per finding (stream-derived keys escaped), then the summary. */
export function formatCheck(report: CheckReport): string[] {
  const c = report.checked;
  const lines = report.findings.map((f) => {
    const state = f.repaired === true ? '  [repaired]' : f.repairError ? `  [repair failed: ${f.repairError}]` : '';
    const next = f.repaired ? '' : f.repair ? ` — repair: ${f.repair}` : f.remedy ? ` — ${f.remedy}` : '';
    return escapeTerminal(`${f.severity.padEnd(8)} ${f.key}: ${f.message}${next}${state}`);
  });
  const left = report.findings.filter((f) => !f.repaired).length;
  const repaired = report.findings.length - left;
  const summary =
    `${escapeTerminal(report.lake)}: ${count(c.rawHours, 'raw hour')}, ${count(c.rawFiles, 'raw file')}, ${count(c.records, 'record')}, ` +
    `${count(c.manifests, 'manifest')}, ${count(c.etlStates, 'ETL state')}, ${count(c.curatedFiles, 'curated file')}: ` +
    (report.findings.length === 0 ? 'no problems' : `${repaired > 0 ? `${repaired} repaired, ` : ''}${count(left, 'problem')}${repaired > 0 ? ' left' : ''}`);
  return [...lines, summary];
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function parsePartition(value: string): PartitionBy {
  if (value !== 'arrival' && value !== 'mtime') throw new InvalidOptionError(`--partition-by must be arrival or mtime, got "${value}"`);
  return value;
}

/** A raw hour with what the ETL recorded about it (null: never processed). */
export type LakeHour = RawHour & { etl: EtlHourState | null };

/** The ETL column: done/failed, and 'stale' when raw objects arrived after the hour's last run. */
export function etlLabel(h: LakeHour): string {
  if (!h.etl) return '-';
  const when = h.etl.finishedAt.slice(0, 16).replace('T', ' ');
  if (h.etl.status === 'failed') return `failed ${when}`;
  const stale = h.etl.rawObjects !== h.files ? ' (stale: new raw data)' : '';
  return `done ${when} ${h.etl.engine} ${h.etl.validRecords} ok ${h.etl.quarantined} quar.${stale}`;
}

/** The `lake ls` table. */
export function formatHours(hours: readonly LakeHour[]): string[] {
  if (hours.length === 0) return ['no raw hours in the lake'];
  const rows = hours.map((h) => [
    h.hour,
    String(h.files),
    String(h.records),
    String(h.bytes),
    h.closed ? (h.unlisted ? `closed (+${h.unlisted} late)` : 'closed') : 'open',
    etlLabel(h),
  ]);
  const head = ['HOUR', 'FILES', 'RECORDS', 'BYTES', 'STATE', 'ETL'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const left = new Set([0, 4, 5]);
  const fmt = (r: string[]): string => r.map((c, i) => (left.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const total = hours.reduce((a, h) => ({ files: a.files + h.files, records: a.records + h.records, bytes: a.bytes + h.bytes }), { files: 0, records: 0, bytes: 0 });
  return [fmt(head), ...rows.map(fmt), `${hours.length} hours, ${total.files} files, ${total.records} records, ${total.bytes} bytes`];
}
