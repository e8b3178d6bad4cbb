import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createGenerator } from '../../src/source/generator.ts';
import { startSourceServer, type SourceServer } from '../../src/source/server.ts';
import { spawnCli } from '../helpers/cli.ts';
import { readRawLines, tally, waitUntil } from '../helpers/stream-lake.ts';

/**
 * `kill -9` of the streamer at any moment — within the first second of data, during the
 * catch-up after a restart, between a file and its checkpoint, before anything was rotated —
 * against a paced source that keeps publishing while the streamer is down: every record the
 * source published lands once, none twice. The resume point (written within half a second of
 * data, whatever the rotation) names what a restart must fetch again.
 */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function lakeDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oe-kill-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function start(args: string[]): { child: ReturnType<typeof spawnCli>; stderr: () => string; exited: Promise<number | null> } {
  const child = spawnCli(args);
  cleanups.push(async () => void child.kill('SIGKILL'));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, stderr: () => stderr, exited };
}

/** Waits until the streamer has a connection answered with data (the source logged lines on a connection opened after `since`). */
async function connected(server: SourceServer, since: number): Promise<void> {
  await waitUntil(() => server.log().connections.slice(since).some((c) => c.status === 200 && c.lines > 0), 60_000, 'the streamer to receive data');
}

/** Runs a last streamer until every published record is in the lake (or the deadline), then stops it cleanly. */
async function finish(server: SourceServer, lake: string, args: string[], count: number, expected: Set<string>): Promise<void> {
  const last = start(args);
  await waitUntil(() => server.published() >= count, 120_000, 'the source to publish everything');
  await waitUntil(
    async () => {
      await new Promise((r) => setTimeout(r, 1000));
      const landed = new Set((await readRawLines(lake)).map((l) => `${l.id} ${l.mtime}`));
      return [...expected].every((p) => landed.has(p));
    },
    90_000,
    'every published record to land',
  ).catch(() => undefined); // the assertions below say what is missing
  last.child.kill('SIGTERM');
  expect(await last.exited, last.stderr()).toBe(0);
}

/** The (id, mtime) of every record a generated source publishes, computed apart from the source. */
function generated(seed: number, count: number, stepMs: number): Set<string> {
  return new Set([...createGenerator({ seed, count, stepMs })].map((r) => `${r.id} ${r.mtime}`));
}

/** Every record the source published (it can serve each of them again: nothing expires), in the lake exactly once. */
async function expectExactlyOnce(lake: string, expected: Set<string>): Promise<void> {
  const lines = await readRawLines(lake);
  const landed = tally(lines.map((l) => `${l.id} ${l.mtime}`));
  const missing = [...expected].filter((p) => !landed.has(p));
  expect(missing.length, `missing ${missing.length} of ${expected.size}: ${missing.slice(0, 5).join(', ')}`).toBe(0);
  const twice = [...landed].filter(([, n]) => n > 1);
  expect(twice.length, `duplicated: ${twice.slice(0, 5).map(([p]) => p).join(', ')}`).toBe(0);
  expect(landed.size).toBe(expected.size);
}

describe('kill -9 at any moment', () => {
  it('a crash before the first rotation loses nothing: the restart fetches what was received but not durable (issue 15)', { timeout: 480_000 }, async () => {
    // Given a source at 5,000 events/s and a streamer with the default rotation (60 s)
    const count = 25_000;
    const server = await startSourceServer({ generate: { seed: 51, count, stepMs: 200 }, rate: 5000 });
    const expected = generated(51, count, 200);
    cleanups.push(() => server.close());
    const lake = await lakeDir();
    const args = ['stream', '--url', server.url, '--lake', lake, '-q'];

    // When it is killed 3 s into the stream, before anything was rotated, and restarted
    const first = start(args);
    await connected(server, 0);
    await new Promise((r) => setTimeout(r, 3000));
    first.child.kill('SIGKILL');
    await first.exited;
    const before = await readRawLines(lake);
    expect(before).toEqual([]); // nothing was durable
    await finish(server, lake, [...args, '--rotate-age', '500'], count, expected);

    // Then every record the first streamer had received (and every later one) is in the lake, once
    const receivedFirst = server.log().events.filter((e) => e.connection === 1);
    expect(receivedFirst.length).toBeGreaterThan(5000);
    await expectExactlyOnce(lake, expected);
  });

  it('20 kills at random moments (within the first second, during catch-up, between rotations), against a paced source: every record once', { timeout: 900_000 }, async () => {
    // Given a source publishing 1,000 events/s whether or not anyone reads, and a lake
    const count = 30_000;
    const server = await startSourceServer({ generate: { seed: 52, count, stepMs: 100 }, rate: 1000, faults: 'malformed:0.01' });
    const expected = generated(52, count, 100);
    cleanups.push(() => server.close());
    const lake = await lakeDir();
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

    // When 20 streamers in turn are killed with SIGKILL at a random moment after they receive data:
    // within 50 ms (the catch-up of a restart), within the first second, or later; some with files
    // rotated every 400 ms (kills fall between a file and its checkpoint), some never rotating
    const moments: number[] = [];
    for (let round = 0; round < 20; round++) {
      const rotate = round % 2 === 0 ? ['--rotate-age', '400'] : [];
      const streamer = start(['stream', '--url', server.url, '--lake', lake, '-q', ...rotate]);
      const since = server.log().connections.length;
      await connected(server, since);
      const kind = round % 4;
      const delay = kind === 0 ? random() * 50 : kind === 1 ? 50 + random() * 950 : 1000 + random() * 1000;
      moments.push(Math.round(delay));
      await new Promise((r) => setTimeout(r, delay));
      streamer.child.kill('SIGKILL');
      await streamer.exited;
    }
    expect(moments.filter((m) => m <= 50).length).toBeGreaterThanOrEqual(5);
    expect(moments.filter((m) => m < 1000).length).toBeGreaterThanOrEqual(10);

    // And a last one runs until the source has published everything
    await finish(server, lake, ['stream', '--url', server.url, '--lake', lake, '-q', '--rotate-age', '400'], count, expected);

    // Then every record the source published is in the lake exactly once
    await expectExactlyOnce(lake, expected);
    // and the restarts caught up by position
    expect(server.log().connections.filter((c) => c.sinceCount !== undefined).length).toBeGreaterThanOrEqual(20);
  });
});
