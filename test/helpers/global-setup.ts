import { build, isStale } from '../../scripts/build.mjs';

/**
 * vitest global setup: the tests that run the `openevents` command run the compiled one
 * (dist/, as users get it), so it is rebuilt first whenever src/ has changed since the last build.
 * Services the tests need are started by the tests themselves on 127.0.0.1 with free ports.
 */
export default async function setup(): Promise<void> {
  if (isStale()) await build();
}
