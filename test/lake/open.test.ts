import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { openLake } from '../../src/lake/open.ts';
import { runCli } from '../helpers/cli.ts';

const base = mkdtempSync(path.join(os.tmpdir(), 'oe-open-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

async function failure(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}

describe('openLake', () => {
  it('given a path that does not exist, a read refuses it naming the path; a writer may create it', async () => {
    const missing = path.join(base, 'no-such-lake');
    const error = await failure(openLake(missing, base, { mustExist: true }));
    expect(error.message).toBe(`no lake at ${missing}`);
    expect(error.hint).toMatch(/--lake/);
    await expect(openLake(missing, base)).resolves.toBeDefined();
  });

  it('given a file, refuses it whatever the command', async () => {
    const file = path.join(base, 'a-file');
    writeFileSync(file, 'not a lake');
    expect((await failure(openLake(file, base))).message).toBe(`the lake ${file} is a file, not a folder`);
    expect((await failure(openLake(path.join(file, 'lake'), base))).message).toBe(`the lake ${path.join(file, 'lake')} is inside a file (${file}), not a folder`);
  });

  it('given a folder that holds nothing of a lake, a read refuses it', async () => {
    const empty = path.join(base, 'empty');
    mkdirSync(path.join(empty, 'other'), { recursive: true });
    expect((await failure(openLake(empty, base, { mustExist: true }))).message).toMatch(`no lake at ${empty}: it has none of raw/, curated/, _state/`);
    mkdirSync(path.join(empty, 'raw'));
    await expect(openLake(empty, base, { mustExist: true })).resolves.toBeDefined();
  });
});

describe('read commands on a lake that does not exist', () => {
  const missing = path.join(base, 'typo-lake');
  it.each([
    [['lake', 'ls']],
    [['etl']],
    [['stats']],
    [['status']],
    [['query', 'SELECT 1']],
  ])('%j exits 1 naming the lake, no stack', async (args) => {
    const { code, stdout, stderr } = await runCli([...args, '--lake', missing]);
    expect(stderr).toContain(`error: no lake at ${missing}`);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).not.toMatch(/hit a bug|\n\s+at /);
  });
});
