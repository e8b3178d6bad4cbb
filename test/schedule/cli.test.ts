import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEtlState } from '../../src/etl/state.ts';
import { hourIdOf, STATE } from '../../src/lake/layout.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import type { JobRecord } from '../../src/jobs/types.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp.ts';
import { HOUR, writeHours } from './lake.ts';

const tmp = tempDirs('oe-sched-cli-');

async function scheduleJobs(dir: string): Promise<JobRecord[]> {
  const folder = path.join(dir, STATE, 'jobs');
  const names = (await fs.readdir(folder)).filter((n) => n.endsWith('.json'));
  const jobs = await Promise.all(names.map(async (n) => JSON.parse(await fs.readFile(path.join(folder, n), 'utf8')) as JobRecord));
  return jobs.filter((j) => j.kind === 'schedule');
}

describe('openevents schedule', () => {
  it('two `schedule --once` at the same moment: both exit 0, one runs every closed hour as one job, the other runs none of them', async () => {
    const dir = tmp();
    const store = new LocalStore(dir);
    const base = Date.now() - 30 * HOUR;
    const hours = [0, 1, 2, 3, 4].map((i) => hourIdOf(base + i * HOUR));
    await writeHours(store, hours);

    const [a, b] = await Promise.all([runCli(['schedule', '--once', '--lake', dir]), runCli(['schedule', '--once', '--lake', dir])]);

    expect([a.code, b.code]).toEqual([0, 0]);
    const lines = [a.stdout, b.stdout].map((s) => s.trim());
    const ran = lines.filter((l) => l.includes(`ran ${hours[0]} … ${hours[4]} (5 hours) as job `));
    expect(ran).toHaveLength(1);
    expect(ran[0]).toMatch(/: 5 done$/);
    expect(lines.filter((l) => / busy: another scheduler \(pid \d+ on host .+\) is ticking| nothing to do$/.test(l))).toHaveLength(1);
    const jobs = await scheduleJobs(dir);
    expect(jobs.map((j) => [j.state, j.steps[0]!.argv.at(-1)])).toEqual([['succeeded', hours.join(',')]]);
    const states = (await readEtlState(store)).hours;
    expect(states.map((s) => [s.hour, s.status])).toEqual(hours.map((h) => [h, 'done']));
  }, 180_000);

  it('--json prints the tick; --every below 10 s is refused with what is allowed', async () => {
    const dir = tmp();
    await writeHours(new LocalStore(dir), [hourIdOf(Date.now() - 5 * HOUR)]);
    const once = await runCli(['schedule', '--once', '--json', '--lake', dir]);
    expect(once.code).toBe(0);
    const tick = JSON.parse(once.stdout) as { status: string; summary: { ran: string[]; done: string[]; jobId: string } };
    expect(tick.status).toBe('ran');
    expect(tick.summary.done).toEqual(tick.summary.ran);
    expect(tick.summary.jobId).toMatch(/-schedule-/);

    const fast = await runCli(['schedule', '--every', '5s', '--lake', dir]);
    expect(fast.code).toBe(1);
    expect(fast.stderr).toContain('--every takes an interval of at least 10s such as 1h, 5m or 30s; got "5s"');
  }, 120_000);
});
