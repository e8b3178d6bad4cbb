#!/usr/bin/env node
// The `openevents` command: loads the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';

// The project's tsconfig, whatever the working directory (tsx would look in the cwd).
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await import('../src/cli/main.ts');
