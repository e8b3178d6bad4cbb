import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { tail } from './log-tail.ts';
import { JobRunningError, pollUntilDone, type JobRunner, type JobSpec, type WaitOptions } from './runner.ts';
import { STATE } from '../lake/layout.ts';
import { JobFiles } from './store.ts';
import { isActive, type JobRecord } from './types.ts';

// The compiled toolkit (npm run build), whether this module runs from dist/ or, in tests, src/.
const DIST = path.resolve(import.meta.dirname, '../../dist');
/** The `openevents` command as argv, for steps that run the toolkit itself: one node process. */
export const OPENEVENTS_ARGV: readonly string[] = [process.execPath, path.join(DIST, 'cli/main.js')];
const SUPERVISOR: readonly string[] = [process.execPath, '--enable-source-maps', path.join(DIST, 'jobs/supervise.js')];

export interface LocalJobRunnerOptions {
  /** Folder of the job records and logs: `<lake>/_state/jobs` for a local lake. */
  dir: string;
  /** Working directory of the jobs. */
  cwd?: string;
  /** Who starts jobs (default: the OS user). */
  who?: string;
  /** Extra environment for the jobs (on top of this process's). */
  env?: Record<string, string>;
  now?: () => number;
}

/**
 * Runs pipeline jobs as local child processes. Each job gets a detached supervisor
 * (src/jobs/supervise.ts) that outlives the monitor and records the job's state in
 * `<dir>/<id>.json` and its output in `<dir>/<id>.log`.
 */
export class LocalJobRunner implements JobRunner {
  readonly name = 'local' as const;
  readonly files: JobFiles;
  private readonly cwd: string;
  private readonly who: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly now: () => number;
  /** Supervisors this runner spawned, until their record names them. */
  private readonly spawned = new Map<string, number>();

  constructor(options: LocalJobRunnerOptions) {
    this.files = new JobFiles(options.dir);
    this.cwd = options.cwd ?? process.cwd();
    this.who = options.who ?? osUser();
    this.env = { ...process.env, ...options.env };
    this.now = options.now ?? Date.now;
  }

  /** Writes the job's record and starts its supervisor; resolves once the supervisor is spawned. */
  async start(spec: JobSpec): Promise<JobRecord> {
    if (spec.key !== undefined) {
      const same = (await this.list()).find((r) => r.key === spec.key && isActive(r));
      if (same) throw new JobRunningError(same);
    }
    const created = new Date(this.now());
    const id = `${created.toISOString().replace(/[-:]/g, '').slice(0, 15)}-${spec.kind}-${randomBytes(3).toString('hex')}`;
    const record: JobRecord = {
      id,
      runner: 'local',
      kind: spec.kind,
      label: spec.label,
      state: 'pending',
      steps: spec.steps.map((s) => ({
        label: s.label,
        argv: s.argv ?? [...OPENEVENTS_ARGV, ...(s.args ?? [])],
        ...(s.hour ? { hour: s.hour } : {}),
      })),
      who: this.who,
      cwd: this.cwd,
      createdAt: created.toISOString(),
      logFile: this.files.logFile(id),
      ...(spec.key !== undefined ? { key: spec.key } : {}),
    };
    await this.files.write(record);
    const [cmd, ...args] = SUPERVISOR;
    const child = spawn(cmd as string, [...args, this.files.dir, id], { cwd: this.cwd, env: this.env, detached: true, stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.unref();
    record.supervisorPid = child.pid;
    if (child.pid !== undefined) this.spawned.set(id, child.pid);
    return record;
  }

  /**
   * The newest `limit` jobs, newest first. A job whose record says running but whose supervisor
   * is gone (killed, machine restarted) is reported as failed with that reason.
   */
  async list(limit = 50): Promise<JobRecord[]> {
    const records = (await this.files.list()).slice(0, limit);
    return Promise.all(records.map((r) => this.reconcile(r)));
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const record = await this.files.read(id);
    return record && this.reconcile(record);
  }

  /** The running job of a kind (e.g. the streamer), if any. */
  async running(kind: string): Promise<JobRecord | undefined> {
    return (await this.list()).find((r) => r.kind === kind && isActive(r));
  }

  /**
   * Asks a job to stop: SIGTERM to its supervisor, which stops the running step and records it.
   * A job whose supervisor is still starting is marked first: the supervisor then runs nothing,
   * and if the signal ends it before it can record anything, the mark says it was stopped.
   */
  async stop(id: string): Promise<boolean> {
    const record = await this.get(id);
    if (!record || !isActive(record)) return false;
    if (record.state === 'pending') await this.files.write({ ...record, stopRequested: true });
    const pid = record.supervisorPid ?? this.spawned.get(id);
    if (pid !== undefined && isAlive(pid)) {
      process.kill(pid, 'SIGTERM');
      return true;
    }
    return false;
  }

  /** Stops every running or pending job and waits (up to `timeoutMs` each) for it to end. */
  async stopAll(timeoutMs = 30_000): Promise<void> {
    for (const job of await this.list()) {
      if (!isActive(job)) continue;
      await this.stop(job.id);
      await this.wait(job.id, { timeoutMs }).catch(() => undefined);
    }
  }

  /** Resolves with the job's record once it has ended (tests, scripts). */
  wait(id: string, options: WaitOptions = {}): Promise<JobRecord> {
    return pollUntilDone(() => this.get(id), id, options, this.now);
  }

  /** The end of the job's log file (every step's output, with the supervisor's lines). */
  async logTail(id: string, maxBytes = 8192): Promise<string> {
    const record = await this.files.read(id);
    return record?.logFile ? tail(record.logFile, maxBytes) : '';
  }

  private async reconcile(record: JobRecord): Promise<JobRecord> {
    if (!isActive(record)) return record;
    const pid = record.supervisorPid ?? this.spawned.get(record.id);
    if (pid !== undefined && isAlive(pid)) return record;
    if (pid === undefined && this.now() - Date.parse(record.createdAt) < 30_000) return record; // supervisor starting
    // A supervisor records its result and then exits: it may have done both since the read above.
    const latest = await this.files.read(record.id);
    if (latest && !isActive(latest)) return latest;
    if (record.stopRequested) return { ...record, state: 'stopped', reason: record.state === 'pending' ? 'stopped before it started' : 'stopped on request' };
    return {
      ...record,
      state: 'failed',
      reason: pid === undefined ? 'supervisor never started' : `supervisor (pid ${pid}) exited without recording a result`,
    };
  }
}

/** True when a process with this pid exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; a zombie has exited and only waits to be reaped.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill(0) said it exists
  }
}

/** The OS user name, for audit lines and job records. */
export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

/** Where a lake's local jobs are recorded: `<lake>/_state/jobs` for a folder lake, `<cwd>/.openevents/jobs` otherwise. */
export function jobsDir(store: { localPath(key: string): string | undefined }, cwd: string): string {
  const root = store.localPath('.');
  return root ? path.join(root, STATE, 'jobs') : path.resolve(cwd, '.openevents/jobs');
}
