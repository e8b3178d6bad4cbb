import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { LocalJobRunner } from '../../src/jobs/local.ts';
import { LocalTelemetry } from '../../src/telemetry/telemetry.ts';
import { OPENEVENTS, spawnCli, waitForLine } from '../helpers/cli.ts';
import { ROOT } from '../helpers/moto.ts';
import { createTmux } from '../helpers/tui-tmux.ts';
import { describeWith } from '../helpers/requires.ts';
import { hourBefore, writeEtlHour, writeRawHour, writeTelemetry } from '../helpers/tui-lake.ts';

/**
 * The monitor end to end, as an operator uses it: a real terminal (tmux), the real source server,
 * the real streamer started with `s`, the real ETL started with `e`, quit with `q`.
 * It needs tmux.
 */
describeWith(['tmux'], 'monitor in tmux against a live local pipeline', () => {
  const lake = mkdtempSync(path.join(tmpdir(), 'oe-tui-e2e-'));
  const tmux = createTmux(`oe-tui-e2e-${process.pid}`);
  let server: ChildProcess | undefined;

  afterAll(async () => {
    tmux.kill();
    // The streamer outlives the monitor by design: stop it like an operator would.
    await new LocalJobRunner({ dir: path.join(lake, '_state/jobs') }).stopAll();
    server?.kill('SIGTERM');
    rmSync(lake, { recursive: true, force: true });
  });

  it('sees events/s rise after s, an hour turn done after e, and quits on q', async () => {
    // Given a generator serving 200 events/s on loopback
    server = spawnCli(['source', 'serve', '--generate', '--rate', '200', '--port', '0']);
    const url = (await waitForLine(server, /listening on (\S+)/))[1]!;

    // And the monitor on a 120×40 terminal, pointed at it (raw files rotate every 2 s so hours fill fast)
    const env = [
      `OPENEVENTS_SOURCE_URL=${url}`,
      'OPENEVENTS_STREAM_ROTATE_AGE_MS=2000',
      'OPENEVENTS_STREAM_STATS_INTERVAL_MS=1000',
      'OPENEVENTS_MONITOR_REFRESH_MS=500',
    ].join(' ');
    tmux.start(`cd ${ROOT} && env ${env} ${process.execPath} ${OPENEVENTS} monitor --lake ${lake}; echo MONITOR-EXIT=$?; sleep 60`, 120, 40);
    await tmux.waitFor((s) => s.includes('s start stream'), 'the monitor to start');
    const before = await tmux.waitFor((s) => /● stopped/.test(s), 'the stream pane to say stopped');
    expect(before).not.toMatch(/● running/);

    // When s is pressed, then events/s rises above zero with the streamer running
    tmux.send('s');
    const streaming = await tmux.waitFor((s) => eventsPerSec(s) > 0 && /● running/.test(s), 'events/s to rise');
    expect(eventsPerSec(streaming)).toBeGreaterThan(0);
    expect(streaming).toMatch(/running\s+stream http:\/\/127\.0\.0\.1/); // the streamer job

    // When the newest hour has raw data, e runs its ETL, then it turns done
    const withData = await tmux.waitFor((s) => /^\d{4}-\d{2}-\d{2}T\d{2}\s+\d+ files?\s/m.test(s), 'raw data in the selected hour');
    const hour = /^(\d{4}-\d{2}-\d{2}T\d{2})\s+\d+ files?/m.exec(withData)![1]!;
    tmux.send('e');
    // (The Lake and Jobs panes refresh on their own: wait for both to say so.)
    const done = await tmux.waitFor((s) => new RegExp(`^${hour}\\s.*ETL done`, 'm').test(s) && /succeeded\s+etl \d{4}/.test(s), `${hour} to turn done`, 120_000);
    expect(done).toMatch(/succeeded\s+etl \d{4}/);

    // When q is pressed, the monitor exits with 0
    tmux.send('q');
    await tmux.waitFor((s) => s.includes('MONITOR-EXIT=0'), 'the monitor to exit');

    // And every action left an audit line with who did what
    const audit = await new LocalTelemetry(lake).read({ kind: 'audit', component: 'monitor' });
    expect(audit.map((r) => [r.data?.action, r.data?.target, r.data?.result])).toEqual([
      ['stream.start', 'streamer', 'ok'],
      ['etl', hour, 'ok'],
    ]);
    expect(audit.every((r) => typeof r.data?.who === 'string' && (r.data.who as string).length > 0)).toBe(true);
  });
});

describeWith(['tmux'], 'openevents with no command on an 80×24 terminal with NO_COLOR', () => {
  const lake = mkdtempSync(path.join(tmpdir(), 'oe-tui-e2e-nc-'));
  const tmux = createTmux(`oe-tui-e2e-nc-${process.pid}`);
  afterAll(() => {
    tmux.kill();
    rmSync(lake, { recursive: true, force: true });
  });

  it('opens the monitor, fits the screen, uses no colours, escapes hostile log text, and quits on q', async () => {
    // Given a lake with a failed hour and a log line carrying terminal escapes
    const now = Date.now();
    writeRawHour(lake, hourBefore(now, 2), 10, { manifest: true });
    writeEtlHour(lake, hourBefore(now, 2), 'failed', 'boom');
    writeTelemetry(lake, { ts: new Date(now).toISOString(), level: 'error', component: 'stream', kind: 'log', msg: 'evil\u001b]2;pwned\u0007\u001b[2J name' });
    // When `openevents` runs with no command on a small terminal with NO_COLOR set, from another folder
    tmux.start(`cd ${lake} && env NO_COLOR=1 OPENEVENTS_LAKE=${lake} ${process.execPath} ${OPENEVENTS}; echo MONITOR-EXIT=$?; sleep 60`, 80, 24);
    const screen = await tmux.waitFor((s) => s.includes('evil') && s.includes('FAIL'), 'the monitor with the lake');
    // Then it is the monitor, within 80 columns, with the hostile text made harmless
    expect(screen).toContain('openevents monitor');
    expect(Math.max(...screen.split('\n').map((l) => [...l].length))).toBeLessThanOrEqual(80);
    expect(screen).toContain('evil name');
    expect(screen).not.toContain('pwned');
    // And no colour escapes reach the terminal (bold/inverse/dim attributes are not colours)
    const raw = tmux.captureEscapes();
    expect(raw).not.toMatch(/\u001b\[[0-9;]*(3[0-7]|9[0-7]|38;)[0-9;]*m/);
    tmux.send('q');
    await tmux.waitFor((s) => s.includes('MONITOR-EXIT=0'), 'the monitor to exit');
  });
});

/** The events/s figure of the Stream pane (e.g. '212 ev/s', '1.2k ev/s'). */
function eventsPerSec(screen: string): number {
  const m = /● \w+\s+([\d.]+)(k?) ev\/s/.exec(screen);
  if (!m) return 0;
  return Number(m[1]) * (m[2] === 'k' ? 1000 : 1);
}
