import { spawnSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/moto.ts';
import { tempDirs } from '../helpers/temp.ts';

const tmp = tempDirs('oe-requires-');

/** Runs test/package/needs/needs.spec.ts (a suite that needs tmux) with nothing but node on PATH. */
function runWithoutTmux(ci: boolean): { status: number | null; output: string; stderr: string } {
  const bin = tmp();
  symlinkSync(process.execPath, path.join(bin, 'node'));
  const env: NodeJS.ProcessEnv = { PATH: bin, HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, ...(ci ? { CI: 'true' } : {}) };
  const run = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'test/package/needs/vitest.config.ts'], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
  });
  return { status: run.status, output: run.stdout + run.stderr, stderr: run.stderr };
}

describe('a suite that needs a missing tool (describeWith)', () => {
  const install = 'needs tmux; install: `apt-get install -y tmux` (or `bash scripts/setup.sh --test`, which `npm test` runs first)';

  it('is skipped with one line saying what and why', () => {
    const run = runWithoutTmux(false);
    expect(run.status, run.output).toBe(0);
    expect(run.stderr.split('\n').filter((l) => l.startsWith('skipped: '))).toEqual([`skipped: "a suite that needs tmux" ${install}`]);
    expect(run.output).toMatch(/1 skipped/);
  });

  it('fails under CI, with the command that installs it', () => {
    const run = runWithoutTmux(true);
    expect(run.status, run.output).toBe(1);
    expect(run.output).toContain(`"a suite that needs tmux" ${install}. CI is set, so this fails instead of skipping.`);
    expect(run.output).not.toContain('skipped: ');
  });
});
