import { InvalidArgumentError as InvalidOptionError } from 'commander';
import type { Writable } from 'node:stream';
import { loadConfig } from '../config/load.ts';
import { createRuntime, type Runtime } from '../config/runtime.ts';
import type { Config, ConfigInput } from '../config/schema.ts';

/**
 * What a command gets from the program: where to write, the environment, and the config loader.
 * Commands parse options, call a service, and print what it returns; services never print.
 */
export interface CliContext {
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: Writable;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The validated config: defaults ← file ← OPENEVENTS_* ← these flag values. */
  config(overrides?: ConfigInput): Config;
  /** What the config builds: the lake, telemetry and AWS clients (config/runtime.ts); closed by `close()`. */
  runtime(config: Config): Runtime;
  /** Flushes telemetry and closes clients of every runtime handed out; prints their warnings. */
  close(): Promise<void>;
  /** Aborts when the user asks to stop (SIGINT/SIGTERM) or the terminal hangs up (SIGHUP); long-running commands race it. */
  stopSignal: AbortSignal;
}

export interface ContextOptions {
  stdout?: CliContext['stdout'];
  stderr?: Writable;
  stdin?: CliContext['stdin'];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stopSignal?: AbortSignal;
  /** The global --config file, read lazily once the program has parsed it. */
  configFile?: () => string | undefined;
}

export function createContext(options: ContextOptions = {}): CliContext {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const stderr = options.stderr ?? process.stderr;
  const runtimes = new Map<Config, Runtime>();
  return {
    stdout: options.stdout ?? process.stdout,
    stderr,
    stdin: options.stdin ?? process.stdin,
    env,
    cwd,
    stopSignal: options.stopSignal ?? new AbortController().signal,
    config: (overrides) => loadConfig({ file: options.configFile?.(), cwd, env, ...(overrides ? { overrides } : {}) }),
    runtime(config) {
      let runtime = runtimes.get(config);
      if (!runtime) runtimes.set(config, (runtime = createRuntime(config, { cwd, env })));
      return runtime;
    },
    async close() {
      const all = [...runtimes.values()];
      runtimes.clear();
      for (const runtime of all) for (const warning of await runtime.close()) println(stderr, `warning: ${warning}`);
    },
  };
}

/** Writes one line to a stream. */
export function println(stream: Writable, line = ''): void {
  stream.write(line + '\n');
}

/** Writes a value as pretty JSON (for --json). */
export function printJson(stream: Writable, value: unknown): void {
  stream.write(JSON.stringify(value, null, 2) + '\n');
}

/** Parses an integer option value; commander passes strings. */
export function intOption(name: string, min = 0): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidOptionError(`${name} must be an integer ≥ ${min}, got "${value}"`);
    return n;
  };
}

/** Parses a number option value. */
export function numberOption(name: string, min = 0): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new InvalidOptionError(`${name} must be a number ≥ ${min}, got "${value}"`);
    return n;
  };
}

/** Commander turns this into "error: option ... argument ... is invalid. <message>" and exit 1. */
export { InvalidOptionError };
