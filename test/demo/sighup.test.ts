import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { isAlive } from '../../src/jobs/local.ts';
import type { JobRecord } from '../../src/jobs/types.ts';
import { OPENEVENTS } from '../helpers/cli.ts';
import { createTmux } from '../helpers/tui-tmux.ts';
import { describeWith } from '../helpers/requires.ts';

const base = mkdtempSync(path.join(os.tmpdir(), 'oe-sighup-'));
const tmux = createTmux(`oe-sighup-${process.pid}`);
const leftovers = new Set<number>();
afterAll(() => {
  tmux.kill();
  for (const pid of leftovers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(base, { recursive: true, force: true });
});

function jobs(lake: string): JobRecord[] {
  const dir = path.join(lake, '_state/jobs');
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  return names.map((n) => JSON.parse(readFileSync(path.join(dir, n), 'utf8')) as JobRecord);
}

async function until<T>(probe: () => T | undefined, what: string, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describeWith(['tmux'], 'openevents demo ended by its terminal (SIGHUP)', () => {
  it('stops the streamer job and its supervisor, as Ctrl-C does', async () => {
    // Given a demo streaming live in a terminal (tmux), its streamer a supervised job
    const lake = path.join(base, 'lake');
    tmux.start(`exec ${process.execPath} ${OPENEVENTS} demo --lake ${lake} --history-hours 1 --events-per-hour 300 --rate 100 --no-monitor`, 120, 40);
    const demoPid = Number(execFileSync('tmux', ['-L', tmux.socket, 'list-panes', '-F', '#{pane_pid}'], { encoding: 'utf8' }).trim());
    leftovers.add(demoPid);
    const job = await until(() => jobs(lake).find((j) => j.kind === 'stream' && j.state === 'running' && j.pid !== undefined && j.supervisorPid !== undefined), 'the streamer job');
    const supervisor = job.supervisorPid!;
    const streamer = job.pid!;
    leftovers.add(supervisor).add(streamer);
    expect(isAlive(streamer)).toBe(true);

    // When the terminal goes away (tmux kills the pane: SIGHUP to its processes)
    tmux.kill();

    // Then the demo, the supervisor and the streamer all end, and the job is recorded as stopped
    await until(() => (isAlive(demoPid) || isAlive(supervisor) || isAlive(streamer) ? undefined : true), 'every process to end', 90_000);
    expect(jobs(lake).find((j) => j.id === job.id)?.state).toBe('stopped');
  });
});
