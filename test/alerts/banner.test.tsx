import { cleanup, render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { runEtl } from '../../src/etl/run.ts';
import { hourIdOf } from '../../src/lake/layout.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { Monitor } from '../../src/tui/components/Monitor.tsx';
import { createLocalPipeline } from '../../src/tui/model/local.ts';
import { refreshSnapshot } from '../../src/tui/model/snapshot.ts';
import type { AlertView } from '../../src/tui/model/types.ts';
import { plainLine, statusText } from '../../src/tui/plain.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp.ts';
import { fakePipeline, waitFor } from '../helpers/tui-fake.ts';
import { fakeClock, HOUR, writeHours } from '../schedule/lake.ts';

const tmp = tempDirs('oe-alerts-banner-');
afterEach(() => cleanup());

function mount(sources: Parameters<typeof Monitor>[0]['sources'], size = { columns: 100, rows: 40 }) {
  const app = render(<Monitor sources={sources} readonly refreshMs={50} size={size} onQuit={() => undefined} />);
  const frame = (): string => app.lastFrame() ?? '';
  const until = (check: (f: string) => boolean, what: string) => waitFor(() => check(frame()), () => `${what} in frame:\n${frame()}`, 30_000);
  return { app, frame, until };
}

const alert = (i: number): AlertView['alerts'][number] => ({ rule: 'hour-late', subject: `2026-01-10T0${i}`, message: `2026-01-10T0${i} has raw data but no ETL run, ${i + 1} h late` });

describe('the alert banner in the monitor', () => {
  it('shows a late hour of a real lake above the panes, taking its line from the Logs pane, and goes once the hour is processed', async () => {
    const dir = tmp();
    const store = new LocalStore(dir);
    const clock = fakeClock(Date.now());
    const late = hourIdOf(clock.now() - 3 * HOUR);
    await writeHours(store, [late]);
    const pipeline = await createLocalPipeline({ config: loadConfig({ env: {}, cwd: dir, overrides: { lake: dir } }), cwd: dir, now: clock.now });
    const { frame, until } = mount(pipeline.sources);

    await until((f) => f.includes('ALERT hour-late'), 'the banner');
    const lines = frame().split('\n');
    // Right under the header, one line, the rule and the message cut to the width
    expect(lines[1]).toMatch(new RegExp(`^ALERT hour-late: ${late} has 1 raw object\\(s\\) but no ETL run .*…$`));
    expect(lines[1]).toHaveLength(100);
    expect(lines.filter((l) => l.includes('ALERT'))).toHaveLength(1);
    const withBanner = lines.length;

    // Processed: the next evaluation (every 10 s of the monitor's clock) finds nothing, and the frame is as tall as before
    await runEtl(store, { select: { hours: [late] } });
    clock.advance(11_000);
    await until((f) => !f.includes('ALERT') && f.includes('Logs'), 'no banner');
    expect(frame().split('\n')).toHaveLength(withBanner);
    await pipeline.telemetry.close();
  }, 60_000);

  it('shows at most three lines (the last says how many more), fits 80×24, and says when the rules cannot be evaluated', async () => {
    const fake = fakePipeline(Date.now());
    let view: AlertView | Error = { evaluatedAtMs: Date.now(), alerts: [0, 1, 2, 3, 4].map(alert) };
    fake.sources.alerts = { fetch: () => (view instanceof Error ? Promise.reject(view) : Promise.resolve(view)) };
    const { frame, until } = mount(fake.sources, { columns: 80, rows: 24 });
    await until((f) => f.includes('more alerts'), 'the summed-up banner');
    const lines = frame().split('\n');
    expect(lines.slice(1, 4).map((l) => l.trimEnd())).toEqual([
      'ALERT hour-late: 2026-01-10T00 has raw data but no ETL run, 1 h late',
      'ALERT hour-late: 2026-01-10T01 has raw data but no ETL run, 2 h late',
      '… and 3 more alerts: `openevents alerts` lists them all',
    ]);
    expect(lines.length).toBeLessThan(24);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    // The Logs pane gave up the banner's lines; the lake grid is whole (all 24 hours)
    expect(frame()).toContain('Logs');
    expect(lines.filter((l) => /^\s*▶?\d\d [·✓✗!?]/.test(l)).join(' ').match(/\d\d [·✓✗!?]/g)).toHaveLength(24);

    view = new Error('no answer in 10s');
    // The source fails: the alerts last evaluated stay, with a line that says the evaluation failed
    await until((f) => f.includes('alerts cannot be evaluated'), 'the evaluation error');
    expect(frame().split('\n').slice(1, 4).map((l) => l.trimEnd())).toEqual([
      'ALERT hour-late: 2026-01-10T00 has raw data but no ETL run, 1 h late',
      '… and 4 more alerts: `openevents alerts` lists them all',
      'alerts cannot be evaluated: no answer in 10s; above: the last verdict',
    ]);

    view = { evaluatedAtMs: Date.now(), alerts: [] };
    await until((f) => !f.includes('alert'), 'a quiet banner');
  }, 30_000);
});

describe('alerts in the plain monitor lines and in `status`', () => {
  it('names the firing alerts in the plain line and lists them in the status report and --json', async () => {
    const dir = tmp();
    const late = hourIdOf(Date.now() - 3 * HOUR);
    await writeHours(new LocalStore(dir), [late]);

    const pipeline = await createLocalPipeline({ config: loadConfig({ env: {}, cwd: dir, overrides: { lake: dir } }), cwd: dir });
    const snapshot = await refreshSnapshot(pipeline.sources);
    await pipeline.telemetry.close();
    expect(plainLine(snapshot)).toMatch(new RegExp(`\\| jobs .* \\| ALERTS hour-late ${late}$`));
    expect(statusText(snapshot)).toMatch(new RegExp(`\\nAlerts: 1 firing\\n  ALERT hour-late: ${late} has 1 raw object`));

    const text = await runCli(['status', '--lake', dir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`Alerts: 1 firing\n  ALERT hour-late: ${late} has 1 raw object(s) but no ETL run`);
    const json = await runCli(['status', '--json', '--lake', dir]);
    expect((JSON.parse(json.stdout) as { alerts: { data: AlertView } }).alerts.data.alerts.map((a) => [a.rule, a.subject])).toEqual([['hour-late', late]]);

    expect((await runCli(['etl', '--lake', dir])).code).toBe(0);
    expect((await runCli(['status', '--lake', dir])).stdout).toContain('Alerts: none');
  }, 120_000);
});
