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
});
