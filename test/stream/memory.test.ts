import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createGenerator } from '../../src/source/generator.ts';
import { replayFeed, type CaptureRecord } from '../../src/source/replay.ts';
import { startSourceServer } from '../../src/source/server.ts';
import { spawnCli } from '../helpers/cli.ts';
import { watchProcess } from '../helpers/proc.ts';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('streamer memory', () => {
  it('stays bounded under a source far faster than it: a 390 MB stream passes through a process that never holds much of it', { timeout: 600_000 }, async () => {
    // Given a source that serves 160,000 events of real size from memory, several times faster
    // than the streamer can compress them (so only backpressure keeps the streamer's memory flat)
    const records: CaptureRecord[] = [];
    const pairs = new Set<string>();
    let streamBytes = 0;
    for (const r of createGenerator({ seed: 31, count: 160_000 })) {
      const bytes = Buffer.from(r.line);
      records.push({ bytes, id: r.id, mtime: r.mtime });
      pairs.add(`${r.id} ${r.mtime}`);
      streamBytes += bytes.length + 1;
    }
    const server = await startSourceServer({ feed: replayFeed(records) });
    cleanups.push(() => server.close());
    const lake = await mkdtemp(path.join(os.tmpdir(), 'oe-memory-'));
    cleanups.push(() => rm(lake, { recursive: true, force: true }));

    // When the streamer takes all of it, its peak resident memory watched from outside
    const child = spawnCli(['stream', '--url', server.url, '--lake', lake, '--max-events', String(pairs.size), '--json', '-q']);
    // Should the test time out, the streamer must not go on writing into the removed lake.
    cleanups.push(async () => void child.kill('SIGKILL'));
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const watch = watchProcess(child.pid!);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const peak = watch.stop().peakRssMb;

    // Then every distinct event is durable, and the process never held more than a fraction of
    // the stream (node and the loaded toolkit alone are about 100 MB of it)
    expect(code).toBe(0);
    expect((JSON.parse(out) as { durable: number }).durable).toBe(pairs.size);
    expect(streamBytes / 1e6).toBeGreaterThan(380);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThan(320);
  });
});
