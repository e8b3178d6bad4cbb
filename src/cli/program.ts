import { Command } from 'commander';
import { createContext, type CliContext, type ContextOptions } from './context.ts';
import { packageVersion } from './version.ts';
import { registerSourceCommands } from './commands/source.ts';
import { registerStreamCommands } from './commands/stream.ts';
import { registerLandCommands } from './commands/land.ts';
import { registerLakeCommands } from './commands/lake.ts';
import { registerEtlCommands } from './commands/etl.ts';
import { registerQueryCommands } from './commands/query.ts';
import { registerMlCommands } from './commands/ml.ts';
import { registerReportCommands } from './commands/report.ts';
import { registerMonitorCommands } from './commands/monitor.ts';
import { registerDemoCommands } from './commands/demo.ts';
import { registerLogsCommands } from './commands/logs.ts';
import { registerInfraCommands } from './commands/infra.ts';
import { registerEmrCommands } from './commands/emr.ts';
import { registerCompletionCommands } from './commands/completion.ts';
import { registerScheduleCommands } from './commands/schedule.ts';
import { registerAlertsCommands } from './commands/alerts.ts';
import { registerEc2Commands } from './commands/ec2.ts';

/** A command registrar: adds its commands to the program; each lives in commands/<stage>.ts. */
export type Register = (program: Command, ctx: CliContext) => void;

/**
 * Builds the `openevents` program. Tests pass fake streams and call `.exitOverride()`;
 * main.ts passes the real process.
 */
export function createProgram(options: ContextOptions = {}): { program: Command; ctx: CliContext } {
  const program = new Command('openevents');
  const ctx = createContext({ ...options, configFile: () => program.opts<{ config?: string }>().config });
  program
    .description('Operator toolkit for the Meetup open_events pipeline: stream → lake → ETL → SQL, ML, dashboard.')
    .version(packageVersion())
    .option('-c, --config <file>', 'config file (default: ./openevents.config.json if present; env OPENEVENTS_CONFIG)')
    .option('--no-color', 'no colours, here and in the jobs it starts (as NO_COLOR=1 does)')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    });
  const registrars: Register[] = [
    registerDemoCommands,
    registerMonitorCommands,
    registerSourceCommands,
    registerStreamCommands,
    registerLandCommands,
    registerLakeCommands,
    registerEtlCommands,
    registerQueryCommands,
    registerMlCommands,
    registerReportCommands,
    registerLogsCommands,
    registerInfraCommands,
    registerEmrCommands,
    registerScheduleCommands,
    registerAlertsCommands,
    registerCompletionCommands,
    registerEc2Commands,
  ];
  for (const register of registrars) register(program, ctx);
  tidyHelp(program);
  // --no-color becomes NO_COLOR (https://no-color.org), which everything that colours reads,
  // child processes included.
  program.hook('preAction', () => {
    if (program.opts<{ color?: boolean }>().color === false) ctx.env.NO_COLOR = '1';
  });
  return { program, ctx };
}

/**
 * Help reads the same everywhere: a command says what it does in a capitalised line, an option in
 * lower case (as commander's own do), and every command group lists `help [command]` alike.
 */
function tidyHelp(command: Command): void {
  for (const sub of command.commands) {
    if (sub.commands.length > 0) sub.helpCommand('help [command]', 'Show help for a command');
    tidyHelp(sub);
  }
}
