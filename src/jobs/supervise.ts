/**
 * The job supervisor: a detached process that runs a job's steps in turn, sends their output to
 * the job's log file and records each state change in the job's JSON file, so the job's outcome
 * is recorded even when the monitor that started it has quit.
 *
 * usage: node dist/jobs/supervise.js <jobs dir> <job id>   (compiled by npm run build)
 * SIGTERM/SIGINT/SIGHUP: forward SIGTERM to the running step (it flushes and exits), run no more
 * steps, record the job as stopped; SIGKILL the step if it has not exited after 15 s.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { errorMessage } from '../errors.ts';
import { lastLine } from './log-tail.ts';
import { JobFiles } from './store.ts';
import type { JobRecord } from './types.ts';

const KILL_AFTER_MS = 15_000;

async function main(dir: string, id: string): Promise<void> {
  const files = new JobFiles(dir);
  const found = await files.read(id);
  if (!found) throw new Error(`no job record ${id} in ${dir}`);
  const record: JobRecord = found;
  const logFile = (record.logFile ??= files.logFile(id));
  const log = openSync(logFile, 'a');
  const note = (line: string): void => void writeSync(log, `[${new Date().toISOString()}] ${line}\n`);

  let stopping = false;
  let current: ReturnType<typeof spawn> | undefined;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    record.stopRequested = true;
    note('stop requested');
    current?.kill('SIGTERM');
    setTimeout(() => current?.kill('SIGKILL'), KILL_AFTER_MS).unref();
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stop);
  // Stopped while this process was starting: run nothing.
  if (record.stopRequested) stop();

  record.state = 'running';
  record.supervisorPid = process.pid;
  record.startedAt = new Date().toISOString();
  await files.write(record);

  let failure: string | undefined;
  for (const step of record.steps) {
    if (stopping) break;
    note(`$ ${step.label}`);
    const started = Date.now();
    step.startedAt = new Date(started).toISOString();
    step.logs = logFile;
    const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: string }>((resolve) => {
      const child = spawn(step.argv[0] ?? '', step.argv.slice(1), { cwd: record.cwd, stdio: ['ignore', log, log] });
      current = child;
      child.once('error', (error) => resolve({ code: null, signal: null, error: errorMessage(error) }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
      if (child.pid !== undefined) {
        record.pid = child.pid;
        step.state = 'running';
        void files.write(record);
      }
    });
    current = undefined;
    step.exitCode = outcome.code;
    step.signal = outcome.signal;
    step.state = stopping ? 'stopped' : outcome.code === 0 ? 'succeeded' : 'failed';
    step.endedAt = new Date().toISOString();
    note(`${step.label}: ${step.state} (exit ${outcome.code ?? outcome.signal ?? 'none'}) in ${Date.now() - started} ms`);
    if (step.state === 'failed') {
      const detail = outcome.error ?? (await lastLine(logFile, (l) => !l.startsWith('[')));
      const why = outcome.signal ? `killed by ${outcome.signal}` : `exit code ${outcome.code}`;
      step.failure = { reason: why, ...(detail ? { message: detail } : {}), logFile };
      failure ??= `${step.label}: ${why}${detail ? ` — ${detail}` : ''}`;
      // A backfill goes on with the other hours; a chain (ETL then report) stops at the first failure.
      if (record.kind !== 'backfill') break;
    }
    await files.write(record);
  }

  delete record.pid;
  record.endedAt = new Date().toISOString();
  if (stopping) {
    record.state = 'stopped';
    record.reason = 'stopped on request';
  } else if (failure) {
    record.state = 'failed';
    record.reason = failure;
  } else {
    record.state = 'succeeded';
  }
  await files.write(record);
  closeSync(log);
}

const [dir, id] = process.argv.slice(2);
if (!dir || !id) {
  process.stderr.write('usage: supervise.ts <jobs dir> <job id>\n');
  process.exit(2);
}
main(dir, id).then(
  () => process.exit(0),
  async (error: unknown) => {
    // Record the supervisor's own failure so the job does not look like it is still running.
    const files = new JobFiles(dir);
    const record = await files.read(id).catch(() => undefined);
    if (record) {
      record.state = 'failed';
      record.reason = `supervisor failed: ${errorMessage(error)}`;
      record.endedAt = new Date().toISOString();
      await files.write(record).catch(() => undefined);
    }
    process.exit(1);
  },
);
