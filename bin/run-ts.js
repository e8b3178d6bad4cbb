#!/usr/bin/env node
// Runs a TypeScript entry point (argv[2]) with tsx's loader; the rest of argv is passed on.
// A development tool (tsx is a devDependency): benchmarks and scripts run from source with it;
// the toolkit itself runs compiled (npm run build → dist/).
import { register } from 'tsx/esm/api';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

// The project's tsconfig, whatever the working directory (tsx would look in the cwd).
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const entry = process.argv[2];
if (!entry) {
  process.stderr.write('usage: run-ts.js <file.ts> [args...]\n');
  process.exit(2);
}
process.argv.splice(2, 1);
await import(pathToFileURL(path.resolve(entry)).href);
