import { CommanderError } from 'commander';
import { UserError, environmentError } from '../errors.ts';
import { redactText } from '../redact.ts';
import { createProgram } from './program.ts';

/**
 * The `openevents` program on the real process (main.ts loads it). The one top-level handler: a
 * UserError — or a fault of the environment (disk full, permissions, read-only filesystem…),
 * which becomes one naming the file and the remedy — prints its message and hint and exits with
 * its code; anything else is a bug and prints its stack.
 */
const stop = new AbortController();
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (signal === 'SIGHUP') {
      // The terminal is gone: nothing can be shown any more, and a write to it must not end
      // this process before the jobs it started are stopped. A hangup is never "the user means it".
      for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
      stop.abort(new Error(signal));
      return;
    }
    signals += 1;
    // First signal: ask running work to flush and stop. Second: the user means it.
    if (signals > 1) process.exit(130);
    stop.abort(new Error(signal));
  });
}

const { program, ctx } = createProgram({ stopSignal: stop.signal });
program.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitCodeFor(error);
} finally {
  // Ships what telemetry holds (bounded in time) and closes AWS clients, success or not.
  await ctx.close().catch((error: unknown) => process.stderr.write(`warning: ${redactText(String(error))}\n`));
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode; // commander already printed it
  // Whatever is printed is redacted: an SDK message or a stack can quote a signed URL or a key.
  const user = error instanceof UserError ? error : environmentError(error);
  if (user) {
    process.stderr.write(`error: ${redactText(user.message)}\n`);
    if (user.hint) process.stderr.write(`hint: ${redactText(user.hint)}\n`);
    return user.exitCode;
  }
  process.stderr.write('openevents hit a bug. Please report it with the output below.\n');
  process.stderr.write(`${redactText(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
  return 70;
}
