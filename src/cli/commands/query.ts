import { Option, type Command } from 'commander';
import { escapeTerminal } from '../../text.ts';
import type { Stats, TopItem } from '../../etl/stats.ts';
import { printJson, println, type CliContext } from '../context.ts';

/** Registers `openevents query` and `openevents stats`. */
export function registerQueryCommands(program: Command, ctx: CliContext): void {
  program
    .command('query')
    .summary('Ad hoc SQL over the curated tables')
    .description(
      'Ad hoc SQL (DuckDB) over the curated tables, which appear as views: categories, groups, venues, events, event_changes, fees, quarantine, hours.',
    )
    .argument('<sql>', 'the query, e.g. "SELECT status, count(*) FROM events GROUP BY 1"')
    .option('--lake <dir|s3://bucket/prefix>', 'the lake (default: config "lake", ./lake)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'))
    .action(async (sql: string, opts: { lake?: string; format: 'table' | 'json' | 'csv' }) => {
      const config = ctx.config(opts.lake ? { lake: opts.lake } : {});
      // Services load when the command runs (DuckDB), not at CLI start.
      const { formatCsv, formatTable, runQuery, toObjects } = await import('../../etl/query.ts');
      const result = await runQuery(await ctx.runtime(config).lake({ mustExist: true }), sql);
      if (opts.format === 'json') printJson(ctx.stdout, toObjects(result));
      else if (opts.format === 'csv') ctx.stdout.write(formatCsv(result));
      else println(ctx.stdout, formatTable(result));
    });

  program
    .command('stats')
    .summary('Totals, top-10 lists, events per hour, status mix')
    .description('Totals, the top 10 of the dashboard\'s eight charts (over unique events), events per hour, status mix and freshness.')
    .option('--lake <dir|s3://bucket/prefix>', 'the lake (default: config "lake", ./lake)')
    .option('--json', 'print the stats as JSON')
    .action(async (opts: { lake?: string; json?: boolean }) => {
      const config = ctx.config(opts.lake ? { lake: opts.lake } : {});
      const { computeStats } = await import('../../etl/stats.ts');
      const stats = await computeStats(await ctx.runtime(config).lake({ mustExist: true }));
      if (opts.json) printJson(ctx.stdout, stats);
      else println(ctx.stdout, formatStats(stats));
    });
}

const TOP_TITLES: Record<keyof Stats['top'], string> = {
  categories: 'categories',
  eventNames: 'event names',
  groupCities: 'group cities',
  groupCountries: 'group countries',
  groupNames: 'group names',
  venueCities: 'venue cities',
  venueCountries: 'venue countries',
  venueNames: 'venue names',
};

/** The stats as readable text (stream-derived names escaped for the terminal). */
export function formatStats(stats: Stats): string {
  const t = stats.totals;
  const out = [
    `events received ${t.eventsReceived}   unique events ${t.uniqueEvents}   changes ${t.eventChanges}   ` +
      `quarantined ${t.quarantined}${t.quarantined > 0 ? ` (${t.quarantinedOnIngest} on ingest, ${t.quarantinedByEtl} by the ETL)` : ''}`,
    `groups ${t.groups}   venues ${t.venues}   categories ${t.categories}   group countries ${t.countries}`,
    stats.range ? `arrival hours ${stats.range.firstHour} … ${stats.range.lastHour}   event mtimes ${stats.range.firstMtime} … ${stats.range.lastMtime}` : 'no curated data yet (run `openevents etl`)',
  ];
  const list = (title: string, items: TopItem[]): void => {
    out.push('', `top ${title}`);
    if (items.length === 0) out.push('  (none)');
    const width = Math.max(0, ...items.map((i) => Math.min(40, escapeTerminal(i.name).length)));
    for (const i of items) {
      const name = escapeTerminal(i.name);
      out.push(`  ${(name.length > 40 ? name.slice(0, 39) + '…' : name).padEnd(width)}  ${String(i.count).padStart(7)}`);
    }
  };
  for (const [key, title] of Object.entries(TOP_TITLES) as Array<[keyof Stats['top'], string]>) list(title, stats.top[key]);
  list('status', stats.statusMix);
  out.push('', 'per arrival hour: received / valid / quarantined, ETL');
  const fresh = new Map(stats.freshness.map((f) => [f.hour, f]));
  for (const h of stats.eventsPerHour) {
    const f = fresh.get(h.hour);
    out.push(`  ${h.hour}  ${String(h.received).padStart(7)} ${String(h.valid).padStart(7)} ${String(h.quarantined).padStart(5)}  ${f ? `${f.etlStatus}${f.stale ? ' (stale: new raw)' : ''}` : ''}`);
  }
  const pending = stats.freshness.filter((f) => f.etlStatus !== 'done' || f.stale).map((f) => f.hour);
  if (pending.length > 0) out.push(`pending hours: ${pending.join(', ')}`);
  return out.join('\n');
}
