import { readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { build, isStale } from '../../scripts/build.mjs';
import { underCi } from './requires.ts';

/** Names of what the tests and the toolkit make in the temp dir. */
const OURS = /^(oe-|openevents-)/;

/**
 * vitest global setup.
 * - The tests that run the `openevents` command run the compiled one (dist/, as users get it), so
 *   it is rebuilt first whenever src/ has changed since the last build.
 * - Tests remove what they create in the temp dir: the teardown lists what appeared there during
 *   the run (`oe-*`, `openevents-*`) and is still there. Under CI, where this run is alone on the
 *   machine, that fails the run; elsewhere other runs may own such entries, so it only warns.
 * Services the tests need are started by the tests themselves on 127.0.0.1 with free ports.
 */
export default async function setup(): Promise<() => void> {
  if (isStale()) await build();
  const before = new Set(readdirSync(os.tmpdir()));
  return () => {
    const left = readdirSync(os.tmpdir()).filter((name) => OURS.test(name) && !before.has(name)).sort();
    if (left.length === 0) return;
    const message = `tests left ${left.length} entries in ${os.tmpdir()}: ${left.join(', ')} (a test must remove what it creates; one that timed out may not have had the chance)`;
    if (!underCi()) {
      process.stderr.write(`warning: ${message}; other test runs on this machine may own some of them\n`);
      return;
    }
    for (const name of left) rmSync(`${os.tmpdir()}/${name}`, { recursive: true, force: true });
    throw new Error(message);
  };
}
