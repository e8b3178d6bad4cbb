#!/usr/bin/env node
/**
 * Entry point of the `openevents` command (package.json `bin`: dist/cli/main.js). It loads the
 * program only after turning on source maps, so stack traces name .ts lines, and answers
 * `--version` without loading it at all: a script that asks for the version waits for nothing.
 */
import { packageVersion } from './version.ts';

process.setSourceMapsEnabled(true);
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${packageVersion()}\n`);
} else {
  await import('./run.ts');
}
