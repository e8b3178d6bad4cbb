import { describe, expect, it } from 'vitest';
import { hourIdOf } from '../../src/lake/layout.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { LocalTelemetry } from '../../src/telemetry/telemetry.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp.ts';
import { HOUR, writeHours } from '../schedule/lake.ts';

const tmp = tempDirs('oe-alerts-cli-');

describe('openevents alerts', () => {
  it('exits 1 naming each firing alert and writes it as ERROR telemetry; exits 0 once nothing fires', async () => {
    const dir = tmp();
    const late = hourIdOf(Date.now() - 3 * HOUR);
    await writeHours(new LocalStore(dir), [late]);

    // An hour nobody processed: late
    const firing = await runCli(['alerts', '--lake', dir]);
    expect(firing.code).toBe(1);
    expect(firing.stdout).toMatch(new RegExp(`^ALERT hour-late ${late}: ${late} has 1 raw object\\(s\\) but no ETL run .*, 2 h( \\d+ min)? after it ended\\n  → is the scheduler running\\?`));
    expect(firing.stderr).toContain('error: 1 alert(s) firing: hour-late');
    const json = await runCli(['alerts', '--json', '--lake', dir]);
    expect(json.code).toBe(1);
    expect((JSON.parse(json.stdout) as { alerts: Array<{ rule: string; subject: string }> }).alerts.map((a) => [a.rule, a.subject])).toEqual([['hour-late', late]]);
    const errors = (await new LocalTelemetry(dir).read({ component: 'alerts' })).filter((r) => r.level === 'error');
    expect(errors.map((r) => [r.msg.slice(0, 30), r.data?.rule])).toEqual([
      [`ALERT hour-late ${late}: ${late}`.slice(0, 30), 'hour-late'],
      [`ALERT hour-late ${late}: ${late}`.slice(0, 30), 'hour-late'],
    ]);

    // Processed: quiet
    expect((await runCli(['etl', '--lake', dir])).code).toBe(0);
    const quiet = await runCli(['alerts', '--lake', dir]);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toMatch(/^no alerts \(as of .*, looking back 24 h\)\n$/);
  }, 120_000);
});
