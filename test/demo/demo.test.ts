import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readdirSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp.ts';

const tmp = tempDirs('oe-demo-');

/** Every raw record in a local lake, parsed independently of the toolkit's readers. */
function rawRecords(lake: string): Array<{ id: string; mtime: number }> {
  const out: Array<{ id: string; mtime: number }> = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.ndjson.gz')) {
        for (const line of gunzipSync(readFileSync(full)).toString('utf8').split('\n')) {
          if (line) out.push(JSON.parse(line) as { id: string; mtime: number });
        }
      }
    }
  };
  walk(path.join(lake, 'raw'));
  return out;
}

describe('openevents demo (the main job)', () => {
  it('runs the local pipeline end to end off a terminal: history, ETL, model, live stream, report', async () => {
    // Given an empty lake
    const lake = path.join(tmp(), 'lake');

    // When the demo runs with a short live phase and no terminal
    const { code, stdout, stderr } = await runCli(
      ['demo', '--lake', lake, '--duration', '10', '--history-hours', '2', '--events-per-hour', '600', '--rate', '100', '--json'],
      { env: { ...process.env, CI: 'true' } },
    );

    // Then it exits 0 and reports what it did
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout) as { historyEvents: number; liveEvents: number; uniqueEvents: number; reportLocation: string; modelRun?: string };
    expect(result.historyEvents).toBe(1200);
    expect(result.liveEvents).toBeGreaterThan(0);

    // And the lake holds every event the demo says it made durable, and the ETL saw all unique ids
    const records = rawRecords(lake);
    expect(records.length).toBe(result.historyEvents + result.liveEvents);
    expect(new Set(records.map((r) => r.id)).size).toBe(result.uniqueEvents);

    // And a self-contained report was built
    expect(result.reportLocation).toBe(path.join(lake, 'reports/index.html'));
    const html = readFileSync(result.reportLocation, 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(existsSync(path.join(lake, '_telemetry'))).toBe(true);
  });

  it('stops cleanly on Ctrl-C during the live phase: the streamer flushes, the report is rebuilt, exit 0', async () => {
    // Given a demo streaming live, off a terminal
    const lake = path.join(tmp('oe-demo-int-'), 'lake');
    const child = spawnCli(['demo', '--lake', lake, '--history-hours', '1', '--events-per-hour', '300', '--rate', '100'], {
      env: { ...process.env, CI: 'true' },
    });
    let stderr = '';
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    const live = new Promise<void>((resolve) => {
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/demo stream: \d+ events/.test(stderr)) resolve();
      });
    });
    await live;

    // When the operator presses Ctrl-C
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));

    // Then it finished its work and exited 0, and the live events are in the lake
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`report: ${path.join(lake, 'reports/index.html')}`);
    expect(stderr).toMatch(/streamer stopped/);
    expect(rawRecords(lake).length).toBeGreaterThan(300);
  });
});
