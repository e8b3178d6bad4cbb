import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createGenerator } from '../../src/source/generator.ts';
import { startSourceServer } from '../../src/source/server.ts';
import { spawnCli } from '../helpers/cli.ts';
import { rawFiles, readRawLines, tally, waitUntil } from '../helpers/stream-lake.ts';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('streamer crash safety', () => {
  it('after kill -9 and a restart, no distinct event is lost and only events already durable at the kill are duplicated', { timeout: 360_000 }, async () => {
    // Given a generated source (it publishes only as fast as it is read, so nothing is missed while the streamer is down)
    const seed = 23;
    // Enough that the first run cannot make it all durable before its first checkpoint (written
    // at most once a second): at ~50,000 events/s on a quiet machine, 30,000 were all durable.
    const count = 150_000;
    const server = await startSourceServer({ generate: { seed, count } });
    cleanups.push(() => server.close());
    const expected = new Set([...createGenerator({ seed, count })].map((r) => `${r.id} ${r.mtime}`));
    const lake = await mkdtemp(path.join(os.tmpdir(), 'oe-crash-'));
    cleanups.push(() => rm(lake, { recursive: true, force: true }));
    const checkpoint = path.join(lake, '_state/stream/w1.json');
    const nextSeq = async (): Promise<number> => {
      try {
        return (JSON.parse(await readFile(checkpoint, 'utf8')) as { nextSeq: number }).nextSeq;
      } catch {
        return 0; // not written yet
      }
    };
    // The resume window must cover how far back the source's mtimes jump: records in flight at
    // the kill (read but not yet durable, or still in socket buffers) are only sent again if
    // their mtime is inside it. This generator mixes in records up to 300 days old.
    const window = String(400 * 86_400_000);
    const args = ['stream', '--url', server.url, '--lake', lake, '--rotate-age', '100', '--stall-timeout', '3000', '--resume-window', window, '-q'];
    const env = { ...process.env, OPENEVENTS_STREAM_BACKOFF_INITIAL_MS: '20', OPENEVENTS_STREAM_BACKOFF_MAX_MS: '200' };

    // When the streamer is killed with SIGKILL mid-run, once some files are durable
    const first = spawnCli(args, { env });
    cleanups.push(async () => void first.kill('SIGKILL'));
    await waitUntil(async () => (await nextSeq()) > 2_000, 60_000, 'the first checkpoints');
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const durableAtKill = new Set((await readRawLines(lake, await rawFiles(lake))).map((l) => `${l.id} ${l.mtime}`));
    expect(durableAtKill.size).toBeGreaterThan(0);
    expect(durableAtKill.size).toBeLessThan(expected.size);

    // And restarted until the source has published everything and the lake stops growing
    const second = spawnCli(args, { env });
    cleanups.push(async () => void second.kill('SIGKILL'));
    let stderr = '';
    second.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitUntil(() => server.published() >= count, 90_000, 'the source to publish everything');
    await waitUntil(
      async () => {
        await new Promise((r) => setTimeout(r, 500));
        const landed = new Set((await readRawLines(lake)).map((l) => `${l.id} ${l.mtime}`));
        return [...expected].every((p) => landed.has(p));
      },
      90_000,
      'every event to land',
    ).catch(() => undefined); // the assertions below say what is missing
    second.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => second.once('exit', r));

    // Then it stopped cleanly, every served event is in the lake, and duplicates are only of pairs durable at the kill
    expect(code, stderr).toBe(0);
    const lines = await readRawLines(lake);
    const pairs = tally(lines.map((l) => `${l.id} ${l.mtime}`));
    expect(new Set(pairs.keys())).toEqual(expected);
    expect(new Set(lines.map((l) => l.id))).toEqual(new Set(server.log().events.map((e) => e.id)));
    const duplicated = [...pairs].filter(([, n]) => n > 1).map(([p]) => p);
    for (const p of duplicated) expect(durableAtKill.has(p)).toBe(true);
    // (in fact none: files published after the last checkpoint are folded back in at start-up)
    expect(duplicated).toEqual([]);
    // And the killed run's temporary files are gone
    const tmp = path.join(lake, '_state/stream/tmp');
    expect(existsSync(tmp) ? await readdir(tmp) : []).toEqual([]);
  });
});
