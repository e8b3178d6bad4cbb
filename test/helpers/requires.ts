import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'vitest';
import { CHROMIUM } from './report-browser.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** What a test can need beyond Node and the npm packages; `scripts/setup.sh --test` installs all of it. */
export type Need = 'chromium' | 'tmux' | 'zsh' | 'fish' | 'java' | 'venv';

const SETUP = 'bash scripts/setup.sh --test';
const VENV_TOOLS = ['python', 'moto_server', 'spark-submit'];

const NEEDS: Record<Need, { name: string; present: () => boolean; install: string }> = {
  chromium: { name: 'chromium', present: () => existsSync(CHROMIUM), install: 'apt-get install -y chromium' },
  tmux: { name: 'tmux', present: () => spawnSync('tmux', ['-V']).status === 0, install: 'apt-get install -y tmux' },
  zsh: { name: 'zsh', present: () => spawnSync('zsh', ['--version']).status === 0, install: 'apt-get install -y zsh' },
  fish: { name: 'fish', present: () => spawnSync('fish', ['--version']).status === 0, install: 'apt-get install -y fish' },
  java: { name: 'Java 17', present: () => spawnSync('java', ['-version']).status === 0, install: 'apt-get install -y openjdk-17-jre-headless' },
  venv: {
    name: 'the Python environment .venv (pyspark, moto_server)',
    present: () => VENV_TOOLS.every((tool) => existsSync(path.join(ROOT, '.venv/bin', tool))),
    install: SETUP,
  },
};

const known = new Map<Need, boolean>();

/** The needs in `needs` that this machine lacks (each looked up once per test process). */
export function missingNeeds(needs: readonly Need[]): Need[] {
  return needs.filter((need) => {
    if (!known.has(need)) known.set(need, NEEDS[need].present());
    return !known.get(need);
  });
}

/** True when CI is set (as .ci/run sets it): a missing tool is then a failure, never a skip. */
export function underCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.CI) && env.CI !== 'false' && env.CI !== '0';
}

/** What to say about `missing`: the tools by name and the commands that install them. */
export function missingMessage(missing: readonly Need[]): string {
  const installs = [...new Set(missing.map((need) => NEEDS[need].install))];
  const also = installs.includes(SETUP) ? '' : ` (or \`${SETUP}\`, which \`npm test\` runs first)`;
  return `needs ${missing.map((need) => NEEDS[need].name).join(' and ')}; install: \`${installs.join(' && ')}\`${also}`;
}

/**
 * The one way a suite says what it needs. When something is missing: under CI the suite fails with
 * one test naming it and the command that installs it; elsewhere it is skipped and one line on
 * stderr says what was skipped and why. None of `body`'s hooks run then.
 */
export function describeWith(needs: readonly Need[], name: string, body: () => void): void {
  const missing = missingNeeds(needs);
  if (missing.length === 0) describe(name, body);
  else if (underCi()) describe(name, () => it('has what it needs', failing(name, missing)));
  else {
    skipped(name, missing);
    describe.skip(name, body);
  }
}

/** describeWith for one test. */
export function itWith(needs: readonly Need[], name: string, body: () => Promise<void> | void, timeoutMs?: number): void {
  const missing = missingNeeds(needs);
  if (missing.length === 0) it(name, body, timeoutMs);
  else if (underCi()) it(name, failing(name, missing));
  else {
    skipped(name, missing);
    it.skip(name, body);
  }
}

function failing(name: string, missing: readonly Need[]): () => never {
  return () => {
    throw new Error(`"${name}" ${missingMessage(missing)}. CI is set, so this fails instead of skipping.`);
  };
}

function skipped(name: string, missing: readonly Need[]): void {
  process.stderr.write(`skipped: "${name}" ${missingMessage(missing)}\n`);
}
