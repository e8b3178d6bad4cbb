import { CommanderError } from 'commander';
import { UserError } from '../errors.ts';
import { createProgram } from './program.ts';

/**
 * The `openevents` program on the real process (main.ts loads it). The one top-level handler: a
 * UserError prints its message and hint and exits with its code; anything else is a bug and
 * prints its stack.
 */
const stop = new AbortController();
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    signals += 1;
    // First signal: ask running work to flush and stop. Second: the user means it.
    if (signals > 1) process.exit(130);
    stop.abort(new Error(signal));
  });
}

const { program } = createProgram({ stopSignal: stop.signal });
program.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitCodeFor(error);
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode; // commander already printed it
  if (error instanceof UserError) {
    process.stderr.write(`error: ${error.message}\n`);
    if (error.hint) process.stderr.write(`hint: ${error.hint}\n`);
    return error.exitCode;
  }
  process.stderr.write('openevents hit a bug. Please report it with the output below.\n');
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 70;
}
