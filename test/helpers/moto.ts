import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { missingNeeds } from './requires.ts';

/** A running moto_server on 127.0.0.1 (from the project's .venv). */
export interface Moto {
  endpoint: string;
  /** Environment for clients and child processes pointed at this emulator. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export const ROOT = path.resolve(import.meta.dirname, '../..');

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts moto_server and waits until it answers. Call stop() in afterAll. */
export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const bin = path.join(ROOT, '.venv/bin/moto_server');
  const child: ChildProcess = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited: ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.ok || res.status < 500) break;
    } catch {
      /* not yet listening */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not start in 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  // S3 lakes cache the objects engines read under XDG_CACHE_HOME (~/.cache by default): keep the
  // tests' copies in the temp dir, gone with the emulator.
  const cache = await mkdtemp(path.join(os.tmpdir(), 'oe-moto-cache-'));
  const env = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    XDG_CACHE_HOME: cache,
  };
  return {
    endpoint,
    env,
    stop: async () => {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
      await rm(cache, { recursive: true, force: true });
    },
  };
}

/**
 * One moto_server for the calling test file, with process.env pointed at it (the SDK's default
 * chain reads credentials and AWS_ENDPOINT_URL from there) and restored afterwards.
 * Returns a getter for the running emulator.
 */
export function useMoto(): () => Moto {
  let moto: Moto | undefined;
  const saved = { ...process.env };
  beforeAll(async () => {
    // Without the .venv, the suites that use moto are skipped or failed by describeWith(['venv']).
    if (missingNeeds(['venv']).length > 0) return;
    moto = await startMoto();
    Object.assign(process.env, moto.env);
  });
  afterAll(async () => {
    process.env = saved;
    await moto?.stop();
  });
  return () => {
    if (!moto) throw new Error(`moto_server is not running (useMoto() is for test files, in beforeAll and tests; its suites: describeWith(['venv'], …))`);
    return moto;
  };
}
