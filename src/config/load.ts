import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UserError, isErrnoCode } from '../errors.ts';
import { configSchema, type Config, type ConfigInput } from './schema.ts';
import { closest } from './suggest.ts';

/** The config file looked for in the working directory when no --config is given. */
export const CONFIG_FILE = 'openevents.config.json';

/** OPENEVENTS_* variables that are not config keys (every other one must name a key); OPENEVENTS_BOX_* size the Vagrantfile's VM. */
export const NON_KEY_ENV: readonly string[] = ['OPENEVENTS_CONFIG', 'OPENEVENTS_BOX_MEMORY', 'OPENEVENTS_BOX_CPUS'];

export interface LoadConfigOptions {
  /** An explicit config file (--config); it must exist. */
  file?: string | undefined;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags: they win over the environment, which wins over the file. */
  overrides?: ConfigInput;
}

type Plain = { [key: string]: unknown };

/**
 * Loads the one validated config: defaults ← file ← environment (OPENEVENTS_*) ← flags.
 * An invalid value throws a UserError naming the key, where it came from and what is allowed.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const layers: Array<{ from: string; value: Plain }> = [];

  const file = options.file ?? env.OPENEVENTS_CONFIG;
  const filePath = path.resolve(cwd, file ?? CONFIG_FILE);
  const fromFile = readConfigFile(filePath, file !== undefined);
  if (fromFile) layers.push({ from: filePath, value: fromFile });
  layers.push({ from: 'environment', value: configFromEnv(env) });
  if (options.overrides) layers.push({ from: 'flags', value: stripUndefined(options.overrides as Plain) });

  let merged: Plain = {};
  for (const layer of layers) {
    merged = deepMerge(merged, layer.value);
    // Validate each layer as it lands so the error can say where a bad value came from.
    const check = configSchema.safeParse(merged);
    if (!check.success) throw configError(check.error, layer.from);
  }
  return configSchema.parse(merged);
}

/** The environment variable that sets a config key: stream.stallTimeoutMs → OPENEVENTS_STREAM_STALL_TIMEOUT_MS. */
export function envName(keyPath: readonly string[]): string {
  return 'OPENEVENTS_' + keyPath.map((k) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

/** Every config value's key path with its default (leaves only), from the schema's defaults. */
function leafKeys(): Array<{ keyPath: string[]; value: unknown }> {
  const out: Array<{ keyPath: string[]; value: unknown }> = [];
  const walk = (node: Plain, keyPath: string[]): void => {
    for (const [key, value] of Object.entries(node)) {
      if (value !== null && typeof value === 'object') walk(value as Plain, [...keyPath, key]);
      else out.push({ keyPath: [...keyPath, key], value });
    }
  };
  walk(configSchema.parse({}) as unknown as Plain, []);
  return out;
}

function configFromEnv(env: NodeJS.ProcessEnv): Plain {
  const leaves = leafKeys();
  const known = new Set([...NON_KEY_ENV, ...leaves.map((l) => envName(l.keyPath))]);
  // A misspelt variable would otherwise be ignored without a word, like a misspelt key.
  const unknown = Object.keys(env).filter((name) => name.startsWith('OPENEVENTS_') && !known.has(name)).sort();
  if (unknown.length > 0) {
    const lines = unknown.map((name) => {
      const near = closest(name, known);
      return `  ${name}: no such setting${near ? ` (did you mean ${near}?)` : ''}`;
    });
    throw new UserError(`invalid configuration from environment:\n${lines.join('\n')}`, { hint: CONFIG_HINT });
  }
  const out: Plain = {};
  for (const { keyPath, value } of leaves) {
    const raw = env[envName(keyPath)];
    if (raw === undefined) continue;
    let target = out;
    for (const key of keyPath.slice(0, -1)) target = (target[key] ??= {}) as Plain;
    target[keyPath.at(-1)!] = typeof value === 'number' && raw.trim() !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}

function readConfigFile(filePath: string, required: boolean): Plain | undefined {
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (error) {
    if (!required && isErrnoCode(error, 'ENOENT')) return undefined;
    throw new UserError(`cannot read config file ${filePath}`, { cause: error, hint: 'check the --config path' });
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Plain;
  } catch (error) {
    throw new UserError(`config file ${filePath} is not a JSON object: ${(error as Error).message}`, { cause: error });
  }
}

const CONFIG_HINT = 'see README "Configuration" for the keys and what each allows';

function configError(error: z.ZodError, from: string): UserError {
  const lines = error.issues.flatMap((issue) => {
    const keyPath = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      const siblings = knownKeysAt(keyPath);
      return issue.keys.map((key) => {
        const near = closest(key, siblings);
        return `  ${[...keyPath, key].join('.')}: unknown key${near ? ` (did you mean "${near}"?)` : ''}`;
      });
    }
    const key = keyPath.join('.') || '(root)';
    const env = keyPath.length > 0 ? ` (env ${envName(keyPath)})` : '';
    return [`  ${key}: ${issue.message}${from === 'environment' ? env : ''}`];
  });
  return new UserError(`invalid configuration from ${from}:\n${lines.join('\n')}`, { hint: CONFIG_HINT });
}

/** The keys the schema knows in the object at `keyPath` (from its defaults). */
function knownKeysAt(keyPath: readonly string[]): string[] {
  let node: unknown = configSchema.parse({});
  for (const key of keyPath) node = node !== null && typeof node === 'object' ? (node as Plain)[key] : undefined;
  return node !== null && typeof node === 'object' ? Object.keys(node) : [];
}

function deepMerge(base: Plain, top: Plain): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(top)) {
    const prev = out[key];
    out[key] =
      value !== null && typeof value === 'object' && !Array.isArray(value) && prev !== null && typeof prev === 'object'
        ? deepMerge(prev as Plain, value as Plain)
        : value;
  }
  return out;
}

function stripUndefined(value: Plain): Plain {
  const out: Plain = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    out[key] = v !== null && typeof v === 'object' && !Array.isArray(v) ? stripUndefined(v as Plain) : v;
  }
  return out;
}
