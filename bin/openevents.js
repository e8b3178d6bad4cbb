#!/usr/bin/env node
// `openevents` from a checkout: rebuilds dist/ first when src/ has changed since the last build
// (scripts/build.mjs), then runs the compiled command. An installed package runs
// dist/cli/main.js directly (package.json `bin`).
import { isStale, build } from '../scripts/build.mjs';

if (isStale()) await build();
await import('../dist/cli/main.js');
