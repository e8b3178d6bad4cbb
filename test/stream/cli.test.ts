import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSourceServer } from '../../src/source/server.ts';
import { runCli } from '../helpers/cli.ts';
import { readRawLines } from '../helpers/stream-lake.ts';
import { CAPTURE } from '../helpers/fixtures.ts';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('openevents stream (CLI)', () => {
  it('--max-events exits 0 once that many distinct events are durable, and a second run continues without repeating them', async () => {
    // Given the capture served with every record sent twice
    const server = await startSourceServer({ replay: [CAPTURE], faults: 'duplicate:every=1' });
    cleanups.push(() => server.close());
    const lake = await mkdtemp(path.join(os.tmpdir(), 'oe-cli-'));
    cleanups.push(() => rm(lake, { recursive: true, force: true }));

    // When the streamer is run twice with --max-events 300
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const out = await runCli(['stream', '--url', server.url, '--lake', lake, '--max-events', '300', '--json']);
      expect(out.code, out.stderr).toBe(0);
      runs.push(JSON.parse(out.stdout) as { durable: number; stoppedBy: string; state: string });
    }

    // Then each run made exactly 300 events durable and the lake holds 600 distinct (id, mtime) pairs
    expect(runs.map((r) => [r.durable, r.stoppedBy, r.state])).toEqual([
      [300, 'max-events', 'stopped'],
      [300, 'max-events', 'stopped'],
    ]);
    const lines = await readRawLines(lake);
    expect(new Set(lines.map((l) => `${l.id} ${l.mtime}`)).size).toBe(600);
    expect(lines.length).toBe(600);
  });

  it('fails with a clear error for a URL that is not a stream', async () => {
    const server = await startSourceServer({ replay: [CAPTURE] });
    cleanups.push(() => server.close());
    const lake = await mkdtemp(path.join(os.tmpdir(), 'oe-cli-'));
    cleanups.push(() => rm(lake, { recursive: true, force: true }));
    const out = await runCli(['stream', '--url', server.url.replace('/2/open_events', '/nope'), '--lake', lake, '-q']);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/error: the source answered HTTP 404/);
    expect(out.stderr).toMatch(/hint: check --url/);
  });
});
