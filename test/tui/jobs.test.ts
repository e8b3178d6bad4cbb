import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAlive, LocalJobRunner } from '../../src/jobs/local.ts';
import { JobRunningError, type JobRunner } from '../../src/jobs/runner.ts';
import { auditedRunner } from '../../src/tui/model/actions.ts';
import { localActions } from '../../src/tui/model/local.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { PipelineActions } from '../../src/tui/model/sources.ts';
import { LocalTelemetry } from '../../src/telemetry/telemetry.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'oe-tui-jobs-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const node = (code: string): string[] => [process.execPath, '-e', code];

describe('local job runner', () => {
  it('runs steps in a detached supervisor, captures their output and records success', async () => {
    const runner = new LocalJobRunner({ dir, cwd: dir });
    const job = await runner.start({
      kind: 'etl',
      label: 'two steps',
      steps: [
        { label: 'one', argv: node('console.log("hello from one")'), hour: '2026-11-28T01' },
        { label: 'two', argv: node('console.error("hello from two")'), hour: '2026-11-28T02' },
      ],
    });
    const done = await runner.wait(job.id, { timeoutMs: 30_000 });
    expect(done.state).toBe('succeeded');
    expect(done.steps.map((s) => [s.state, s.exitCode])).toEqual([
      ['succeeded', 0],
      ['succeeded', 0],
    ]);
    const log = readFileSync(String(done.logFile), 'utf8');
    expect(log).toContain('hello from one');
    expect(log).toContain('hello from two');
    // A second runner (a restarted monitor, `status`) sees the same job
    expect((await new LocalJobRunner({ dir }).list()).map((j) => j.id)).toEqual([job.id]);
  });

  it('records a failure with the exit code and the last line the step printed, and stops a chain there', async () => {
    const runner = new LocalJobRunner({ dir, cwd: dir });
    const job = await runner.start({
      kind: 'rerun',
      label: 'fails',
      steps: [
        { label: 'etl 2026-11-28T01', argv: node('console.error("error: hour 2026-11-28T01 has no raw data"); process.exit(3)') },
        { label: 'report build', argv: node('console.log("should not run")') },
      ],
    });
    const done = await runner.wait(job.id, { timeoutMs: 30_000 });
    expect(done.state).toBe('failed');
    expect(done.reason).toBe('etl 2026-11-28T01: exit code 3 — error: hour 2026-11-28T01 has no raw data');
    expect(done.steps[1]?.state).toBeUndefined();
    expect(readFileSync(String(done.logFile), 'utf8')).not.toContain('should not run');
  });

  it('a backfill goes on after a failed hour', async () => {
    const runner = new LocalJobRunner({ dir, cwd: dir });
    const job = await runner.start({
      kind: 'backfill',
      label: 'backfill',
      steps: [
        { label: 'etl a', argv: node('process.exit(1)'), hour: '2026-11-28T01' },
        { label: 'etl b', argv: node('process.exit(0)'), hour: '2026-11-28T02' },
      ],
    });
    const done = await runner.wait(job.id, { timeoutMs: 30_000 });
    expect(done.state).toBe('failed');
    expect(done.steps.map((s) => s.state)).toEqual(['failed', 'succeeded']);
  });

  it('stops a long-running job on request (SIGTERM reaches the step, which may flush) and records it stopped', async () => {
    const runner = new LocalJobRunner({ dir, cwd: dir });
    const job = await runner.start({
      kind: 'stream',
      label: 'streamer',
      steps: [{ label: 'stream', argv: node('process.on("SIGTERM", () => { console.log("flushed"); process.exit(0) }); console.log("up"); setInterval(() => {}, 1000)') }],
    });
    // Wait until the step runs
    const deadline = Date.now() + 30_000;
    let running = await runner.running('stream');
    while (!running?.pid && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      running = await runner.running('stream');
    }
    expect(running?.pid).toBeGreaterThan(0);
    const stepPid = running!.pid!;
    await new Promise((r) => setTimeout(r, 300)); // let the step install its handler
    expect(await runner.stop(job.id)).toBe(true);
    const done = await runner.wait(job.id, { timeoutMs: 30_000 });
    expect(done).toMatchObject({ state: 'stopped', reason: 'stopped on request' });
    expect(readFileSync(String(done.logFile), 'utf8')).toContain('flushed');
    expect(isAlive(stepPid)).toBe(false);
    expect(await runner.running('stream')).toBeUndefined();
  });

  it('records a job stopped while its supervisor was still starting as stopped, and runs none of its steps', async () => {
    const runner = new LocalJobRunner({ dir, cwd: dir });
    const job = await runner.start({ kind: 'stream', label: 'streamer', steps: [{ label: 'stream', argv: node('console.log("step ran"); setInterval(() => {}, 1000)') }] });
    // When it is stopped at once (the supervisor has not even loaded)
    expect(await runner.stop(job.id)).toBe(true);
    const done = await runner.wait(job.id, { timeoutMs: 30_000 });
    // Then it is stopped, not failed, and its step never ran
    expect(done.state).toBe('stopped');
    expect(done.steps[0]!.exitCode).toBeUndefined();
    const log = await readFile(String(done.logFile), 'utf8').catch(() => '');
    expect(log).not.toContain('step ran');
    expect(await runner.running('stream')).toBeUndefined();
  });

  it('reports a job whose supervisor vanished as failed, not running forever', async () => {
    const runner = new LocalJobRunner({ dir, cwd: dir });
    const job = await runner.start({ kind: 'ml', label: 'long', steps: [{ label: 'sleep', argv: node('setTimeout(() => {}, 60000)') }] });
    let record = await runner.get(job.id);
    const deadline = Date.now() + 30_000;
    while (!record?.pid && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      record = await runner.get(job.id);
    }
    // When the supervisor is killed hard (and its step with it)
    process.kill(record!.supervisorPid!, 'SIGKILL');
    process.kill(record!.pid!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const seen = await runner.get(job.id);
    expect(seen).toMatchObject({ state: 'failed', reason: expect.stringMatching(/supervisor \(pid \d+\) exited without recording a result/) });
  });
});

describe('local actions', () => {
  it('will not stop a streamer it did not start, nor backfill nothing', async () => {
    const runner = new LocalJobRunner({ dir, cwd: dir });
    const actions = localActions(runner, dir, loadConfig({ env: {}, cwd: dir }));
    expect(await actions.stopStreamer()).toMatchObject({ ok: false, message: expect.stringMatching(/not started from here/) });
    expect(await actions.backfill([])).toMatchObject({ ok: false });
    expect(await runner.list()).toEqual([]);
  });

  it('refuses a second ETL of an hour that a job is processing', async () => {
    const runner = new LocalJobRunner({ dir, cwd: dir });
    const busy = await runner.start({ kind: 'etl', label: 'slow', steps: [{ label: 'etl', argv: node('setTimeout(() => {}, 20000)'), hour: '2026-11-28T05' }] });
    const actions = localActions(runner, dir, loadConfig({ env: {}, cwd: dir }));
    expect(await actions.runEtl('2026-11-28T05')).toMatchObject({ ok: false, message: expect.stringContaining(busy.id) });
    await runner.stop(busy.id);
    await runner.wait(busy.id, { timeoutMs: 30_000 });
  });
});

describe('local jobs through the JobRunner interface', () => {
  it('a job key runs once at a time: a second start while it is active refuses with the running job; after it ended, it runs again', async () => {
    const runner: JobRunner = new LocalJobRunner({ dir, cwd: dir });
    const spec = { kind: 'etl', label: 'etl 2026-11-28T05', key: 'etl/2026-11-28T05', steps: [{ label: 'etl', argv: node('setTimeout(() => console.log("ran"), 1500)'), hour: '2026-11-28T05' }] };
    const first = await runner.start(spec);
    expect(first).toMatchObject({ runner: 'local', key: 'etl/2026-11-28T05' });
    const refused = await runner.start(spec).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(JobRunningError);
    expect((refused as JobRunningError).job.id).toBe(first.id);
    expect((await runner.list()).map((j) => j.id)).toEqual([first.id]);
    const seen: string[] = [];
    const done = await runner.wait(first.id, { timeoutMs: 30_000, onChange: (r) => seen.push(r.state) });
    expect(done.state).toBe('succeeded');
    expect(seen.at(-1)).toBe('succeeded');
    expect(done.steps[0]).toMatchObject({ state: 'succeeded', logs: done.logFile });
    expect(await runner.logTail(first.id)).toContain('ran');
    const again = await runner.start(spec);
    expect(again.id).not.toBe(first.id);
    await runner.wait(again.id, { timeoutMs: 30_000 });
  });

  it('a failed step carries FailureDetails: the exit and the last line it printed, and its log file', async () => {
    const runner: JobRunner = new LocalJobRunner({ dir, cwd: dir });
    const job = await runner.start({ kind: 'etl', label: 'fails', steps: [{ label: 'etl x', argv: node('console.error("no raw data"); process.exit(4)') }] });
    const done = await runner.wait(job.id, { timeoutMs: 30_000 });
    expect(done.steps[0]?.failure).toEqual({ reason: 'exit code 4', message: 'no raw data', logFile: done.logFile });
  });
});

describe('audited actions', () => {
  it('writes one audit line per action with who, what and the result, also for refusals and errors', async () => {
    const telemetry = new LocalTelemetry(dir);
    const actions: PipelineActions = {
      startStreamer: async () => ({ ok: true, message: 'streamer started (job j1)', jobId: 'j1' }),
      stopStreamer: async () => ({ ok: false, message: 'not running' }),
      runEtl: async () => {
        throw new Error('disk full');
      },
      trainModel: async () => ({ ok: true, message: 'ok' }),
      publishReport: async () => ({ ok: true, message: 'ok' }),
      rerunHour: async () => ({ ok: true, message: 'ok' }),
      backfill: async () => ({ ok: true, message: 'ok' }),
    };
    const runner = auditedRunner(actions, telemetry, 'alice');
    expect(await runner.run({ kind: 'stream', stop: false })).toMatchObject({ ok: true });
    expect(await runner.run({ kind: 'etl', hour: '2026-11-28T05' })).toEqual({ ok: false, message: 'disk full' });
    runner.refuse({ kind: 'publish' }, 'declined at the y/N prompt');
    const audit = await telemetry.read({ kind: 'audit', component: 'monitor' });
    expect(audit.map((r) => r.data)).toEqual([
      { who: 'alice', action: 'stream.start', target: 'streamer', result: 'ok', jobId: 'j1' },
      { who: 'alice', action: 'etl', target: '2026-11-28T05', result: 'failed' },
      { who: 'alice', action: 'report.publish', target: 'report', result: 'refused' },
    ]);
    expect(audit.every((r) => !Number.isNaN(Date.parse(r.ts)))).toBe(true);
  });
});
