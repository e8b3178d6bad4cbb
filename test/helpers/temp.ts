import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

/**
 * Temp folders that a test file removes after its tests. Call it at the top of the file (it
 * registers the afterAll), then `tmp()` for each new folder. The global teardown fails the run if
 * anything is left in the run's temp dir, so a test that makes folders another way removes them.
 */
export function tempDirs(prefix: string): (name?: string) => string {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return (name = prefix) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), name));
    made.push(dir);
    return dir;
  };
}
