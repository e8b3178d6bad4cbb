import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSourceServer } from '../../src/source/server.ts';
import { spawnCli } from '../helpers/cli.ts';
import { rawFiles, readRawLines, tally, waitUntil } from '../helpers/stream-lake.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function lakeDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oe-lease-stream-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** runCli, with the process killed after the test if it is still running (a failed assertion must not leave a streamer behind). */
async function runCliOwned(args: string[], options: Parameters<typeof spawnCli>[1] = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(args, options);
  cleanups.push(async () => void child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return { code: await exited(child), stdout, stderr };
}

function exited(child: ReturnType<typeof spawnCli>): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));
}

/** The newest lease generation of a writer, read with plain fs. */
async function leaseHolder(lake: string, writer: string): Promise<{ pid: number; expiresAtMs: number } | undefined> {
  const dir = path.join(lake, '_state/leases/stream', writer);
  const { readdir } = await import('node:fs/promises');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^\d{16}\.json$/.test(n)).sort();
  if (names.length === 0) return undefined;
  const record = JSON.parse(await readFile(path.join(dir, names.at(-1)!), 'utf8')) as { holder: { pid: number } | null; expiresAtMs: number };
  return record.holder ? { pid: record.holder.pid, expiresAtMs: record.expiresAtMs } : undefined;
}

describe('one streamer per writer id', () => {
  it('a second streamer with a writer id in use refuses with the holder named, and takes over once the holder is gone', async () => {
    // Given a paced source and a streamer A writing as w1
    const server = await startSourceServer({ generate: { seed: 3, count: 100_000 }, rate: 1000 });
    cleanups.push(() => server.close());
    const lake = await lakeDir();
    const args = ['stream', '--url', server.url, '--lake', lake, '--rotate-age', '300', '-q'];
    const a = spawnCli(args);
    cleanups.push(async () => void a.kill('SIGKILL'));
    const checkpoint = path.join(lake, '_state/stream/w1.json');
    await waitUntil(async () => (await readFile(checkpoint).catch(() => undefined)) !== undefined, 30_000, 'A to make events durable');

    // When B starts with the same writer id
    const b = await runCliOwned(['stream', '--url', server.url, '--lake', lake, '--max-events', '500', '-q']);

    // Then B refuses at once, naming A, and writes nothing
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(new RegExp(`error: writer "w1" is in use by pid ${a.pid} on host ${os.hostname()} \\(since [0-9T:.-]+Z\\); its lease expires in \\d+ s unless renewed`));
    expect(b.stderr).toMatch(/hint: stop that streamer first \(or wait for its lease to expire\), or give this one another --writer/);
    expect(b.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack

    // And another writer id runs beside A
    const other = await runCliOwned(['stream', '--url', server.url, '--lake', lake, '--writer', 'w2', '--max-events', '200', '-q', '--json']);
    expect(other.code, other.stderr).toBe(0);

    // When A is killed, a new w1 streamer takes over at once (A's process is gone) and continues A's files
    a.kill('SIGKILL');
    await exited(a);
    const c = await runCliOwned(['stream', '--url', server.url, '--lake', lake, '--max-events', '300', '--json', '-q']);
    expect(c.code, c.stderr).toBe(0);
    expect((JSON.parse(c.stdout) as { durable: number }).durable).toBe(300);
    // and released its lease on the way out
    expect(await leaseHolder(lake, 'w1')).toBeUndefined();

    // And w1's files hold no event twice (w2 streamed the same source on its own)
    const w1 = (await rawFiles(lake)).filter((f) => path.basename(f).startsWith('w1-'));
    const pairs = tally((await readRawLines(lake, w1)).map((l) => `${l.id} ${l.mtime}`));
    expect(pairs.size).toBeGreaterThan(300);
    expect([...pairs].filter(([, n]) => n > 1)).toEqual([]);
  });

  it('a holder that stops renewing (frozen) is taken over only after its lease expires, and then stops without writing more', { timeout: 300_000 }, async () => {
    const server = await startSourceServer({ generate: { seed: 4, count: 20_000 }, rate: 500 });
    cleanups.push(() => server.close());
    const lake = await lakeDir();
    // (a lease long enough for a second streamer to start and ask before it expires, on a busy machine too)
    const env = { ...process.env, OPENEVENTS_STREAM_LEASE_TTL_MS: '20000' };
    const args = ['stream', '--url', server.url, '--lake', lake, '--rotate-age', '200', '-q'];
    // Given A holds w1 with a 20 s lease, and is frozen (SIGSTOP)
    const a = spawnCli(args, { env });
    cleanups.push(async () => void a.kill('SIGKILL'));
    let aErr = '';
    a.stderr!.on('data', (d: Buffer) => (aErr += d.toString()));
    await waitUntil(async () => (await leaseHolder(lake, 'w1'))?.pid === a.pid, 30_000, 'A to hold the lease');
    a.kill('SIGSTOP');
    const frozenAt = Date.now();
    const lease = (await leaseHolder(lake, 'w1'))!;

    // When B tries before the lease has expired, it is refused
    if (Date.now() < lease.expiresAtMs - 15_000) {
      const early = spawnCli([...args, '--max-events', '50'], { env });
      cleanups.push(async () => void early.kill('SIGKILL'));
      let earlyErr = '';
      early.stderr!.on('data', (d: Buffer) => (earlyErr += d.toString()));
      expect(await exited(early)).toBe(1);
      expect(earlyErr).toMatch(`in use by pid ${a.pid}`);
    }
    // After it expired, B takes over
    await waitUntil(() => Date.now() > lease.expiresAtMs + 100, 30_000, 'the lease to expire');
    const b = spawnCli(args, { env });
    cleanups.push(async () => void b.kill('SIGKILL'));
    await waitUntil(async () => (await leaseHolder(lake, 'w1'))?.pid === b.pid, 30_000, 'B to hold the lease');
    expect(Date.now() - frozenAt).toBeGreaterThanOrEqual(lease.expiresAtMs - frozenAt);

    // Then A, thawed, finds it lost w1 and exits 1 saying so
    a.kill('SIGCONT');
    expect(await exited(a)).toBe(1);
    expect(aErr).toMatch(/error: writer "w1" was taken over by pid \d+ on host/);

    // And B keeps streaming; stopped, the lake holds no event twice
    await new Promise((r) => setTimeout(r, 1500));
    b.kill('SIGTERM');
    expect(await exited(b)).toBe(0);
    const pairs = tally((await readRawLines(lake)).map((l) => `${l.id} ${l.mtime}`));
    expect(pairs.size).toBeGreaterThan(0);
    expect([...pairs].filter(([, n]) => n > 1)).toEqual([]);
  });
});
