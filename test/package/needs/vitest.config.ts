import path from 'node:path';
import { defineConfig } from 'vitest/config';

/** Runs needs.spec.ts alone, for test/package/requires.test.ts. */
export default defineConfig({
  root: path.resolve(import.meta.dirname, '../../..'),
  test: { include: ['test/package/needs/*.spec.ts'], pool: 'forks', maxWorkers: 1 },
});
