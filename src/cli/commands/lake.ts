import type { Command } from 'commander';
import { UserError } from '../../errors.ts';
import type { EtlHourState } from '../../etl/state.ts';
import type { RawHour } from '../../lake/hours.ts';
import type { PartitionBy } from '../../lake/import.ts';
import { InvalidOptionError, printJson, println, type CliContext } from '../context.ts';

/** Registers `openevents lake import` and `openevents lake ls`. */
export function registerLakeCommands(program: Command, ctx: CliContext): void {
  const lake = program.command('lake').description('Raw lake: import captures or Firehose bucket copies, list hours');

  lake
    .command('import')
    .description('Import NDJSON captures (optionally gzipped) or Firehose bucket copies (YYYY/MM/DD/HH/ folders) into the raw lake')
    .argument('<file...>', 'capture files or folders (walked recursively)')
    .option('--lake <dir>', 'lake folder or s3://bucket/prefix (default: config lake, ./lake)')
    .option('--partition-by <how>', 'arrival: the YYYY/MM/DD/HH folder a file sits in, else the current hour; mtime: each event by its mtime hour', parsePartition, 'arrival')
    .option('--json', 'print the result as JSON')
    .action(async (files: string[], flags: { lake?: string; partitionBy: PartitionBy; json?: boolean }) => {
      const config = ctx.config(flags.lake !== undefined ? { lake: flags.lake } : {});
      const { importFiles } = await import('../../lake/import.ts');
      const store = await ctx.runtime(config).lake();
      let results;
      try {
        results = await importFiles(store, files, {
          partitionBy: flags.partitionBy,
          maxRecordBytes: config.stream.maxRecordBytes,
          hourGraceMs: config.stream.hourGraceMs,
        });
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
          throw new UserError(`cannot read ${(error as { path?: string }).path ?? 'input'}`, { cause: error, hint: 'check the file paths' });
        }
        throw error;
      }
      if (flags.json) return printJson(ctx.stdout, results);
      for (const r of results) {
        println(
          ctx.stdout,
          `${r.source ?? r.writer}: ${r.records} records into ${r.hours.length} hour(s) (${r.objects.length} objects), ` +
            `${r.quarantined} quarantined, skipped ${r.skipped.headers} header / ${r.skipped.cutOff} cut-off lines` +
            (r.removed.length > 0 ? `, replaced ${r.removed.length} objects of an earlier import` : ''),
        );
      }
    });

  lake
    .command('ls')
    .description('List raw hours with files, records and bytes (closed hours from their manifest) and their ETL state: when, engine, records, quarantined')
    .option('--lake <dir>', 'lake folder or s3://bucket/prefix (default: config lake, ./lake)')
    .option('--json', 'print the hours as JSON')
    .action(async (flags: { lake?: string; json?: boolean }) => {
      const config = ctx.config(flags.lake !== undefined ? { lake: flags.lake } : {});
      const [{ listRawHours }, { readEtlState }] = await Promise.all([import('../../lake/hours.ts'), import('../../etl/state.ts')]);
      const store = await ctx.runtime(config).lake();
      const [raw, etl] = await Promise.all([listRawHours(store), readEtlState(store)]);
      const etlByHour = new Map(etl.hours.map((h) => [h.hour, h]));
      const hours: LakeHour[] = raw.map((h) => ({ ...h, etl: etlByHour.get(h.hour) ?? null }));
      if (flags.json) return printJson(ctx.stdout, hours);
      for (const line of formatHours(hours)) println(ctx.stdout, line);
    });
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
