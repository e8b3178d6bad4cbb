#!/usr/bin/env node
// Runs a TypeScript entry point (argv[2]) with tsx's loader; the rest of argv is passed on.
// The toolkit ships as TypeScript and runs through tsx: one way to run it, no stale build.
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

register();
const entry = process.argv[2];
if (!entry) {
  process.stderr.write('usage: run-ts.js <file.ts> [args...]\n');
  process.exit(2);
}
process.argv.splice(2, 1);
await import(pathToFileURL(path.resolve(entry)).href);
