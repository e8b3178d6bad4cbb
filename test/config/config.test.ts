import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { envName, loadConfig } from '../../src/config/load.ts';
import { UserError } from '../../src/errors.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp.ts';

const tmp = tempDirs('oe-config-');

describe('config', () => {
  it('given nothing, yields the local profile defaults', () => {
    const config = loadConfig({ cwd: tmp(), env: {} });
    expect(config.profile).toBe('local');
    expect(config.lake).toBe('./lake');
    expect(config.etl.engine).toBe('duckdb');
  });

  it('layers file ← environment ← flags, the later winning', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'openevents.config.json'), JSON.stringify({ lake: '/from-file', stream: { stallTimeoutMs: 111 }, ml: { trees: 7 } }));
    const config = loadConfig({
      cwd: dir,
      env: { OPENEVENTS_STREAM_STALL_TIMEOUT_MS: '222', OPENEVENTS_LAKE: '/from-env' },
      overrides: { lake: '/from-flag' },
    });
    expect(config.lake).toBe('/from-flag');
    expect(config.stream.stallTimeoutMs).toBe(222);
    expect(config.ml.trees).toBe(7);
  });

  it('names the key, the source and the environment variable of an invalid value', () => {
    expect(() => loadConfig({ cwd: tmp(), env: { OPENEVENTS_PROFILE: 'gcp' } })).toThrow(UserError);
    try {
      loadConfig({ cwd: tmp(), env: { OPENEVENTS_PROFILE: 'gcp' } });
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('profile');
      expect(message).toContain('"local"|"aws"');
      expect(message).toContain('OPENEVENTS_PROFILE');
    }
  });

  it('rejects unknown keys and non-objects in the file', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'openevents.config.json'), JSON.stringify({ lakee: 'x' }));
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(/lakee/);
    writeFileSync(path.join(dir, 'bad.json'), '[1,2]');
    expect(() => loadConfig({ cwd: dir, env: {}, file: 'bad.json' })).toThrow(/not a JSON object/);
    expect(() => loadConfig({ cwd: dir, env: {}, file: 'missing.json' })).toThrow(/cannot read config file/);
  });

  it('maps keys to environment variable names', () => {
    expect(envName(['stream', 'stallTimeoutMs'])).toBe('OPENEVENTS_STREAM_STALL_TIMEOUT_MS');
    expect(envName(['aws', 'endpointUrl'])).toBe('OPENEVENTS_AWS_ENDPOINT_URL');
  });

  it('the CLI exits non-zero with the key named when the config is invalid', async () => {
    const { code, stderr } = await runCli(['lake', 'ls', '--lake', tmp()], {
      env: { ...process.env, OPENEVENTS_ML_TREES: '-3' },
    });
    expect(code).toBe(1);
    expect(stderr).toContain('ml.trees');
  });

  it('rejects an unknown key inside a section, naming it with the closest known key', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'openevents.config.json'), JSON.stringify({ stream: { stalTimeoutMs: 5 } }));
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(/stream\.stalTimeoutMs: unknown key \(did you mean "stallTimeoutMs"\?\)/);
  });

  it('rejects an unknown key at the top and names the closest one, or none when nothing is close', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'openevents.config.json'), JSON.stringify({ lakee: 'x', zzzzzzzz: 1 }));
    let message = '';
    try {
      loadConfig({ cwd: dir, env: {} });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/lakee: unknown key \(did you mean "lake"\?\)/);
    expect(message).toMatch(/zzzzzzzz: unknown key$/m);
  });

  it('rejects an unknown key given to a section that is not an object', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'openevents.config.json'), JSON.stringify({ ml: { seed: 1, tres: 3 }, aws: { regon: 'x' } }));
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(/ml\.tres: unknown key \(did you mean "trees"\?\)[\s\S]*aws\.regon: unknown key \(did you mean "region"\?\)/);
  });

  it('rejects an OPENEVENTS_ variable that names no key, with the closest variable', () => {
    expect(() => loadConfig({ cwd: tmp(), env: { OPENEVENTS_STREAM_STAL_TIMEOUT_MS: '5' } })).toThrow(
      /OPENEVENTS_STREAM_STAL_TIMEOUT_MS: no such setting \(did you mean OPENEVENTS_STREAM_STALL_TIMEOUT_MS\?\)/,
    );
    // OPENEVENTS_CONFIG names the file, not a key.
    const file = path.join(tmp(), 'c.json');
    writeFileSync(file, JSON.stringify({ lake: '/from-file' }));
    expect(loadConfig({ cwd: tmp(), env: { OPENEVENTS_CONFIG: file } }).lake).toBe('/from-file');
  });

  it('the CLI names a misspelled nested key and exits 1 without a stack', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'c.json'), JSON.stringify({ stream: { stalTimeoutMs: 5 } }));
    const { code, stderr } = await runCli(['--config', path.join(dir, 'c.json'), 'lake', 'ls', '--lake', dir]);
    expect(code).toBe(1);
    expect(stderr).toContain('stream.stalTimeoutMs');
    expect(stderr).toContain('did you mean "stallTimeoutMs"');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
