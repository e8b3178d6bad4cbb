import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli, waitForLine } from '../helpers/cli.ts';
import { hourBefore, writeEtlHour, writeRawHour, writeStreamStats } from '../helpers/tui-lake.ts';
import type { PipelineSnapshot } from '../../src/tui/model/types.ts';

const lake = mkdtempSync(path.join(tmpdir(), 'oe-tui-cli-'));
// Stats count as current for three intervals: a slow machine must not see the streamer as stopped.
const env = { ...process.env, OPENEVENTS_STREAM_STATS_INTERVAL_MS: '60000' };
afterAll(() => rmSync(lake, { recursive: true, force: true }));

describe('status and monitor without a terminal', () => {
  const now = Date.now();
  writeRawHour(lake, hourBefore(now, 1), 30, { manifest: true });
  writeEtlHour(lake, hourBefore(now, 1), 'failed', 'no \u001b[31mparquet\u001b[0m written');
  writeStreamStats(lake, now, { eventsPerSec: 42, events: 900, reconnects: 0, invalid: 0, duplicates: 0, lastEventAgeMs: 10, state: 'running' });

  it('status --json prints the monitor model once', async () => {
    const { code, stdout } = await runCli(['status', '--json', '--lake', lake], { env });
    expect(code).toBe(0);
    const snap = JSON.parse(stdout) as PipelineSnapshot;
    expect(snap.panes.stream.data).toMatchObject({ state: 'running', eventsPerSec: 42, events: 900 });
    expect(snap.panes.lake.data?.hours).toHaveLength(24);
    expect(snap.panes.lake.data?.hours.find((h) => h.hour === hourBefore(now, 1))).toMatchObject({
      files: 1,
      records: 30,
      etl: 'failed',
      etlReason: 'no parquet written',
    });
  });

  it('status prints a readable summary with no escape sequences from the lake', async () => {
    const { code, stdout } = await runCli(['status', '--lake', lake], { env });
    expect(code).toBe(0);
    expect(stdout).toMatch(/Stream: running 42 ev\/s/);
    expect(stdout).toContain(`${hourBefore(now, 1)}  1 file  30 records`);
    expect(stdout).toContain('why: no parquet written');
    expect(stdout).not.toContain('\u001b');
  });

  it('monitor without a TTY prints plain lines periodically and exits 0 on SIGTERM', async () => {
    const child = spawnCli(['monitor', '--lake', lake, '--refresh', '200'], { env });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await waitForLine(child, /stream running[^\n]*\n[^\n]*stream running/);
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z stream running 42 ev\/s .*\| lake 24h: 1 hours with raw data, 30 records.* failed 1 .*\| jobs 0 running/);
  });

  it('rejects a bad --refresh with a clear error', async () => {
    const { code, stderr } = await runCli(['monitor', '--lake', lake, '--refresh', '5']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/--refresh must be an integer ≥ 100/);
  });
});
