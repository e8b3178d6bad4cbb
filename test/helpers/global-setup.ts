import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build, isStale } from '../../scripts/build.mjs';

const PREFIX = 'oe-vitest-';

/**
 * vitest global setup.
 * - The tests that run the `openevents` command run the compiled one (dist/, as users get it), so
 *   it is rebuilt first whenever src/ has changed since the last build.
 * - The run gets a temp dir of its own (TMPDIR, inherited by the test workers and every process
 *   they start), and the teardown fails the run if a test left anything in it: tests remove what
 *   they create. Runs of other worktrees on the machine never see each other's files.
 * Services the tests need are started by the tests themselves on 127.0.0.1 with free ports.
 */
export default async function setup(): Promise<() => void> {
  if (isStale()) await build();
  sweepAbandoned();
  const tmp = mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`));
  process.env.TMPDIR = tmp;
  return () => {
    const left = readdirSync(tmp);
    rmSync(tmp, { recursive: true, force: true });
    if (left.length > 0) {
      throw new Error(
        `tests left ${left.length} entries in the temp dir: ${left.sort().join(', ')} (a test must remove what it creates; one that timed out may not have had the chance)`,
      );
    }
  };
}

/** Temp dirs of earlier runs that were killed before their teardown (their process is gone). */
function sweepAbandoned(): void {
  for (const name of readdirSync(os.tmpdir())) {
    const pid = Number(name.startsWith(PREFIX) ? name.slice(PREFIX.length).split('-')[0] : NaN);
    if (!Number.isInteger(pid) || alive(pid)) continue;
    rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
