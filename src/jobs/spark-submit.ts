import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';

/**
 * The one way the toolkit launches a local Spark job: the project's `.venv/bin/spark-submit` (or
 * `SPARK_SUBMIT`) on `local[*]`, with the project's Python on PATH. Used by the ETL's Spark engine
 * and by `ml train --engine spark`. On EMR the same job script runs as a step
 * (`command-runner.jar spark-submit … <script> <args…>`, see `emrSparkStep`).
 */

const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');

/** One Spark application: a script under spark/jobs and its arguments. */
export interface SparkJob {
  /** The job script (absolute, or relative to the project root), e.g. spark/jobs/etl.py. */
  script: string;
  args: string[];
  /** Spark master (default local[*]). */
  master?: string;
  /** Driver memory (default 2g: in local mode the driver is the executor, 1g makes a day of events spill and thrash). */
  driverMemory?: string;
  /** Extra --conf settings (the UI is always off; shuffle partitions default to 4 on one machine). */
  conf?: Record<string, string>;
}

export interface SparkSubmitOptions {
  /** spark-submit to use (default `SPARK_SUBMIT`, else the project's .venv/bin/spark-submit). */
  sparkSubmit?: string;
  /** The project root holding .venv/ and spark/ (default: this checkout). */
  projectRoot?: string;
  /** Extra environment for the job. */
  env?: NodeJS.ProcessEnv;
  /** Stops the job (SIGTERM); the result then has `stopped: true`. */
  signal?: AbortSignal;
  /** Called with each line the job prints on stdout, as it prints it. */
  onLine?: (line: string) => void;
}

export interface SparkSubmitResult {
  /** Exit code (null when killed by a signal). */
  code: number | null;
  /** Everything the job printed on stdout. */
  stdout: string;
  /** The last 20,000 characters of stderr (Spark's log). */
  stderr: string;
  stopped: boolean;
}

/** The spark-submit the toolkit uses. */
export function sparkSubmitPath(env: NodeJS.ProcessEnv = process.env, projectRoot = PROJECT_ROOT): string {
  return env.SPARK_SUBMIT ?? path.join(projectRoot, '.venv/bin/spark-submit');
}

/** Where the bootstrap action (provisioning/emr/bootstrap.sh) puts the code bundle on every node of a cluster. */
export const EMR_CODE_DIR = '/home/hadoop/openevents/current';

/**
 * An EMR step's command-runner.jar arguments for a job script of the code bundle: spark-submit
 * on YARN in client mode (the driver on the primary node, so its output is the step's stdout log),
 * one YARN attempt (a failed step fails at once).
 */
export function emrSparkStep(script: string, args: readonly string[]): string[] {
  return ['spark-submit', '--deploy-mode', 'client', '--conf', 'spark.yarn.maxAppAttempts=1', `${EMR_CODE_DIR}/${script}`, ...args];
}

/** spark-submit's arguments for a job (what follows `spark-submit` on a command line or in an EMR step). */
export function sparkSubmitArgs(job: SparkJob, projectRoot = PROJECT_ROOT): string[] {
  const conf = { 'spark.ui.enabled': 'false', 'spark.sql.shuffle.partitions': '4', ...job.conf };
  return [
    '--master',
    job.master ?? 'local[*]',
    '--driver-memory',
    job.driverMemory ?? '2g',
    ...Object.entries(conf).flatMap(([k, v]) => ['--conf', `${k}=${v}`]),
    path.resolve(projectRoot, job.script),
    ...job.args,
  ];
}

/**
 * Runs a Spark job with spark-submit and waits for it. A missing spark-submit is a UserError
 * (run the setup); a non-zero exit is returned, not thrown — callers know what failed means for
 * them (see `sparkFailure` for a one-line reason).
 */
export async function runSparkSubmit(job: SparkJob, options: SparkSubmitOptions = {}): Promise<SparkSubmitResult> {
  const root = options.projectRoot ?? PROJECT_ROOT;
  const env = { ...process.env, ...options.env };
  const submit = options.sparkSubmit ?? sparkSubmitPath(env, root);
  if (!existsSync(submit)) {
    throw new UserError(`spark-submit not found at ${submit}`, {
      hint: 'run `npm run setup` to create the Python environment (or set SPARK_SUBMIT), or choose the duckdb engine',
    });
  }
  const venvBin = path.dirname(submit);
  const child = spawn(submit, sparkSubmitArgs(job, root), {
    cwd: root,
    // spark-submit finds its home and the job its Python through PATH: put the environment's bin first.
    env: { ...env, PATH: `${venvBin}${path.delimiter}${env.PATH ?? ''}`, PYSPARK_PYTHON: env.PYSPARK_PYTHON ?? path.join(venvBin, 'python') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    const text = d.toString();
    stdout += text;
    if (!options.onLine) return;
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) options.onLine(line);
  });
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  const onAbort = (): void => void child.kill('SIGTERM');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c) => resolve(c));
    });
    if (partial && options.onLine) options.onLine(partial);
    return { code, stdout, stderr, stopped: options.signal?.aborted ?? false };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** The most telling part of a failed job's log: its last exception line, else its last lines. */
export function sparkFailure(result: SparkSubmitResult, lines = 5): string {
  const all = result.stderr.trim().split('\n');
  const errors = all.filter((l) => /^\S.*(Exception|Error)\b.*:/.test(l) && !/^\d\d\/\d\d\/\d\d .* (WARN|INFO)/.test(l));
  const tail = (errors.length > 0 ? errors.slice(-1) : all.filter((l) => !/ (INFO|WARN) /.test(l)).slice(-lines)).join(' | ');
  return `spark-submit exited ${result.code}: ${tail}`.slice(0, 2000);
}
