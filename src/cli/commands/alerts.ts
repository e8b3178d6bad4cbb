import type { Command } from 'commander';
import { UserError } from '../../errors.ts';
import { escapeTerminal } from '../../text.ts';
import { printJson, println, type CliContext } from '../context.ts';

/** Registers `openevents alerts`: the alert rules, evaluated once; non-zero exit when any fires. */
export function registerAlertsCommands(program: Command, ctx: CliContext): void {
  program
    .command('alerts')
    .summary('Check the alert rules once; exit 1 when any fires')
    .description(
      'Evaluate the alert rules once over the last alerts.lookbackHours: stream-silent, stream-stalled, hour-late, hour-missing, ' +
        'hour-failed, job-failed, quarantine-rate, lander-lag (thresholds in config alerts.*). Each firing alert is printed, ' +
        'and written as an ERROR telemetry record (component "alerts"). Exit 0 when none fires, 1 when any does — for cron and CI.',
    )
    .option('--lake <location>', 'lake folder or s3://bucket/prefix (default: config lake, ./lake)')
    .option('--json', 'print {evaluatedAt, alerts: [{rule, subject, message, since, hint}]} as JSON')
    .action(async (opts: { lake?: string; json?: boolean }) => {
      const config = ctx.config(opts.lake ? { lake: opts.lake } : {});
      const { alertSources, checkAlerts, emitAlerts, thresholdsOf } = await import('../../alerts/service.ts');
      const runtime = ctx.runtime(config);
      const report = await checkAlerts(await alertSources(runtime, { cwd: ctx.cwd, env: ctx.env }), thresholdsOf(config));
      // Flushed (to the lake's telemetry, or CloudWatch Logs) when the command ends.
      emitAlerts(await runtime.telemetry('alerts'), report.alerts);
      if (opts.json) printJson(ctx.stdout, report);
      else if (report.alerts.length === 0) println(ctx.stdout, `no alerts (as of ${report.evaluatedAt}, looking back ${config.alerts.lookbackHours} h)`);
      else {
        for (const a of report.alerts) {
          println(ctx.stdout, escapeTerminal(`ALERT ${a.rule} ${a.subject}: ${a.message}`));
          if (a.hint) println(ctx.stdout, escapeTerminal(`  → ${a.hint}`));
        }
      }
      if (report.alerts.length > 0) {
        throw new UserError(`${report.alerts.length} alert(s) firing: ${[...new Set(report.alerts.map((a) => a.rule))].join(', ')}`, {
          hint: 'each line above says what and where to look; thresholds are config alerts.*',
        });
      }
    });
}
