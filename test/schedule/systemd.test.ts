import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hourIdOf } from '../../src/lake/layout.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { readEtlState } from '../../src/etl/state.ts';
import { OPENEVENTS, runProcess } from '../helpers/cli.ts';
import { ROOT } from '../helpers/moto.ts';
import { tempDirs } from '../helpers/temp.ts';
import { HOUR, writeHours } from './lake.ts';

const tmp = tempDirs('oe-systemd-');
const UNITS = path.join(ROOT, 'provisioning/systemd');
const BIN = '/usr/local/bin/openevents';

/** A unit file's `Key=value` lines of one section. */
function section(file: string, name: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let inside = false;
  for (const raw of readFileSync(path.join(UNITS, file), 'utf8').split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) inside = line === `[${name}]`;
    else if (inside && line && !line.startsWith('#')) {
      const [key, ...value] = line.split('=');
      out.set(key!, [...(out.get(key!) ?? []), value.join('=')]);
    }
  }
  return out;
}

/** The argv of a service's ExecStart, with the installed binary swapped for this checkout's CLI. */
function execStart(file: string): string[] {
  const [command] = section(file, 'Service').get('ExecStart') ?? [];
  const [bin, ...args] = command!.split(/\s+/);
  expect(bin).toBe(BIN);
  return [OPENEVENTS, ...args];
}

// `systemd-analyze verify` of every unit is provisioning/check.sh's (test/ops/provisioning.test.ts).
describe('provisioning/systemd', () => {
  it('ships the scheduler and the alerts, each as a service and its timer', () => {
    expect(readdirSync(UNITS).filter((f) => /\.(service|timer)$/.test(f)).sort()).toEqual(['openevents-alerts.service', 'openevents-alerts.timer', 'openevents-schedule.service', 'openevents-schedule.timer']);
  });


  it('the timers start their services: the scheduler hourly just after the hour closes (and after downtime), the alerts every five minutes', () => {
    expect(section('openevents-schedule.timer', 'Timer')).toEqual(
      new Map([
        ['OnCalendar', ['*-*-* *:06:00']],
        ['Persistent', ['true']],
        ['AccuracySec', ['1s']],
        ['Unit', ['openevents-schedule.service']],
      ]),
    );
    expect(section('openevents-alerts.timer', 'Timer').get('Unit')).toEqual(['openevents-alerts.service']);
    expect(section('openevents-schedule.service', 'Service').get('Type')).toEqual(['oneshot']);
  });

  it('the services\' commands, run as the units run them (in the state directory, config from there): one tick processes the closed hours; the alerts exit 1, then 0', async () => {
    // The state directory as the units see it: openevents.config.json and the lake beside it
    const state = tmp();
    writeFileSync(path.join(state, 'openevents.config.json'), JSON.stringify({ lake: './lake' }));
    const hours = [3, 2].map((back) => hourIdOf(Date.now() - back * HOUR));
    await writeHours(new LocalStore(path.join(state, 'lake')), hours);
    const run = (file: string) => {
      const [script, ...args] = execStart(file);
      const service = section(file, 'Service');
      expect(service.get('WorkingDirectory')).toEqual(['/var/lib/openevents']);
      return runProcess(process.execPath, [script!, ...args], { cwd: state });
    };

    const late = await run('openevents-alerts.service');
    expect(late.code).toBe(1);
    expect(late.stdout).toContain(`ALERT hour-late ${hours[0]}`);

    const tick = await run('openevents-schedule.service');
    expect(tick.stderr).toBe('');
    expect(tick.code).toBe(0);
    expect(tick.stdout).toMatch(new RegExp(`ran ${hours[0]} … ${hours[1]} \\(2 hours\\) as job \\S+: 2 done`));
    expect((await readEtlState(new LocalStore(path.join(state, 'lake')))).hours.map((h) => [h.hour, h.status])).toEqual(hours.map((h) => [h, 'done']));

    expect((await run('openevents-alerts.service')).code).toBe(0);
  }, 120_000);
});
