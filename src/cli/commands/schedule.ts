import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { MIN_SCHEDULE_EVERY_MS, type Config } from '../../config/schema.ts';
import type { TickResult } from '../../schedule/scheduler.ts';
import { describeHours } from '../../schedule/launch.ts';
import { errorMessage } from '../../errors.ts';
import { printJson, println, type CliContext } from '../context.ts';

type EngineName = Config['etl']['engine'];

interface ScheduleFlags {
  every?: number;
  once?: boolean;
  engine?: string;
  lake?: string;
  json?: boolean;
}

/** Registers `openevents schedule`: the hourly (or more frequent) ETL with catch-up, retries and a lease. */
export function registerScheduleCommands(program: Command, ctx: CliContext): void {
  program
    .command('schedule')
    .summary('Run the ETL on a timer, with catch-up and retries')
    .description(
      'Run the ETL on a timer: each tick processes every closed raw hour not yet processed, oldest first, in one batched run ' +
        '(so a scheduler that was down catches up in one go). With an interval under an hour it also refreshes the hours still open, ' +
        'so fresh data is queryable within one interval. A failed hour is retried with backoff (schedule.retryInitialMs … retryMaxMs) ' +
        'and given up after schedule.maxAttempts until its raw data changes (`openevents alerts` reports it). A lease in the lake ' +
        '(_state/leases/schedule) lets one scheduler tick at a time, so two never run the same hour. Each run is a job: the monitor and `status` show it.',
    )
    .option('--every <interval>', `time between ticks, e.g. 1h, 5m, 30s (at least ${MIN_SCHEDULE_EVERY_MS / 1000}s; default: config schedule.everyMs, 1h)`, parseEvery)
    .option('--once', 'one tick, then exit (what the systemd timer in provisioning/systemd runs)')
    // No list of engines here: the config validates the name, so the scheduler offers every engine `etl` has.
    .option('--engine <engine>', 'the ETL engine, as `etl --engine` takes it (default: config etl.engine, duckdb)')
    .option('--lake <location>', 'lake folder or s3://bucket/prefix (default: config lake, ./lake)')
    .option('--json', 'one JSON object per tick on stdout')
    .addHelpText(
      'after',
      `
Ticks are aligned: every interval from the epoch, shifted by stream.hourGraceMs, so an hourly
scheduler runs just after each hour closes (HH:05 by default); a due retry runs sooner. Exit
status: 0 after --once whatever the hours did (failures are retried, then alerted), 1 when the
tick itself could not run (no lake, unreachable storage).`,
    )
    .action(async (flags: ScheduleFlags) => {
      const config = ctx.config({
        ...(flags.lake ? { lake: flags.lake } : {}),
        ...(flags.every !== undefined ? { schedule: { everyMs: flags.every } } : {}),
        ...(flags.engine ? { etl: { engine: flags.engine as EngineName } } : {}),
      });
      const [{ setUpScheduler }, { runSchedule }] = await Promise.all([import('../../schedule/service.ts'), import('../../schedule/scheduler.ts')]);
      const configFile = program.opts<{ config?: string }>().config;
      const options = await setUpScheduler(ctx.runtime(config), {
        cwd: ctx.cwd,
        ...(configFile ? { jobEnv: { OPENEVENTS_CONFIG: path.resolve(ctx.cwd, configFile) } } : {}),
      });
      if (!flags.json && !flags.once) {
        println(ctx.stderr, `schedule: every ${formatEvery(config.schedule.everyMs)} on ${options.store.url} (engine ${config.etl.engine}); Ctrl-C stops`);
      }
      await runSchedule({
        ...options,
        signal: ctx.stopSignal,
        once: flags.once === true,
        onTick: (result, nextAtMs) => {
          if (flags.json) printJson(ctx.stdout, { ...result, ...(nextAtMs !== undefined ? { nextTickAt: new Date(nextAtMs).toISOString() } : {}) });
          else println(ctx.stdout, tickLine(result, nextAtMs));
        },
        onError: (error) => println(ctx.stderr, `schedule: tick failed: ${errorMessage(error)} (trying again at the next tick)`),
      });
    });
}

/** `1h`, `5m`, `30s` (or plain ms) → ms, at least the scheduler's shortest interval. */
function parseEvery(value: string): number {
  const m = /^\s*(\d+)\s*(ms|s|m|h)?\s*$/i.exec(value);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(m?.[2] ?? 'ms').toLowerCase() as 'ms' | 's' | 'm' | 'h'];
  const ms = m ? Number(m[1]) * unit : NaN;
  if (!Number.isInteger(ms) || ms < MIN_SCHEDULE_EVERY_MS) {
    throw new InvalidArgumentError(`--every takes an interval of at least ${MIN_SCHEDULE_EVERY_MS / 1000}s such as 1h, 5m or 30s; got "${value}"`);
  }
  return ms;
}

function formatEvery(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

/** One line per tick: what ran, what failed and when it is retried, what waits. */
export function tickLine(result: TickResult, nextAtMs: number | undefined): string {
  const next = nextAtMs !== undefined ? `; next tick ${new Date(nextAtMs).toISOString().slice(0, 19)}Z` : '';
  if (result.status === 'busy') {
    return `${result.at.slice(0, 19)}Z busy: another scheduler (${result.heldBy}) is ticking; its lease ends in ${Math.ceil(result.expiresInMs / 1000)} s unless renewed${next}`;
  }
  const s = result.summary;
  const parts: string[] = [];
  if (s.ran.length === 0) parts.push('nothing to do');
  else {
    parts.push(`ran ${describeHours(s.ran)}${s.open.length ? ` (${s.open.length} open)` : ''}${s.jobId ? ` as job ${s.jobId}` : ''}: ${s.done.length} done`);
    for (const f of s.failed) {
      parts.push(`${f.hour} FAILED (attempt ${f.attempts}${f.gaveUp ? ', giving up until its raw data changes' : `, retry at ${f.nextAttemptAt?.slice(0, 19)}Z`}): ${f.error}`);
    }
  }
  if (result.waiting.length > 0) parts.push(`${result.waiting.length} failed hour(s) waiting to retry`);
  if (s.gaveUp.length > 0) parts.push(`given up: ${s.gaveUp.join(', ')} (rerun with \`openevents etl --hour\`)`);
  return `${s.at.slice(0, 19)}Z ${parts.join('; ')}${next}`;
}
