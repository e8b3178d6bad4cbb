import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import path from 'node:path';
import { expect } from 'vitest';
import { ROOT } from './moto.ts';

/** The real, compiled `openevents` command (package.json `bin`; the global setup builds it when stale). */
export const OPENEVENTS = path.join(ROOT, 'dist/cli/main.js');

/** Spawns `openevents <args>`; the caller owns the process. */
export function spawnCli(args: string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, [OPENEVENTS, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

/** Runs `openevents <args>` to completion and returns its exit code and output. */
export function runCli(args: string[], options: SpawnOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runProcess(process.execPath, [OPENEVENTS, ...args], options);
}

/** Runs a command to completion (cwd: the repository unless given) and returns its exit code and output. */
export async function runProcess(
  command: string,
  args: string[],
  options: SpawnOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, stdout, stderr };
}

/** Resolves with the first stdout line matching `pattern` (e.g. the server's "listening on" line). */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} in ${timeoutMs} ms; got: ${buffer}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      buffer += d.toString();
      const m = pattern.exec(buffer);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(m);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`process exited (${code}) before printing ${pattern}; got: ${buffer}`));
    });
  });
}

/**
 * Checks the shape of a failure the user can fix (a UserError): exit 1, one `error:` line and one
 * `hint:` line on stderr, no stack, no "hit a bug"; returns the two lines.
 */
export function expectUserError(run: { code: number | null; stderr: string }): { error: string; hint: string } {
  expect(run.code, run.stderr).toBe(1);
  const lines = run.stderr.trim().split('\n');
  expect(lines, run.stderr).toHaveLength(2);
  expect(run.stderr).not.toMatch(/hit a bug|\n\s+at /);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[1]).toMatch(/^hint: /);
  return { error: lines[0]!, hint: lines[1]! };
}
