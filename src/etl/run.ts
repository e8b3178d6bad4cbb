import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { UserError, errorMessage } from '../errors.ts';
import { CURATED, type HourId } from '../lake/layout.ts';
import { rawObjectsByHour } from '../lake/hours.ts';
import { listAll, type ObjectInfo, type ObjectStore } from '../lake/store.ts';
import { quoteIdent, sqlString } from './curated.ts';
import { loadSteps, SQL_DIR } from './dialect.ts';
import { frameRecords } from '../lake/records.ts';
import {
  readEtlState,
  writeHourState,
  writeRunSummary,
  type EtlEngine,
  type EtlHourState,
  type EtlRunSummary,
} from './state.ts';
import { CURATED_TABLES, TABLES } from './tables.ts';

/** Which hours a run covers: explicit hours, every raw hour, or (default) the pending ones. */
export type HourSelection = { hours: HourId[] } | { all: true } | { pending: true };

export interface RunEtlOptions {
  select?: HourSelection;
  engine?: EtlEngine;
  /** Called as each hour finishes (for progress lines). */
  onHour?: (state: EtlHourState, index: number, total: number) => void;
  /** Stops between hours; finished hours stay committed. */
  signal?: AbortSignal;
  now?: () => Date;
  /** The project root holding .venv/ and spark/ (default: this checkout). */
  projectRoot?: string;
  /** Extra environment for spark-submit. */
  env?: NodeJS.ProcessEnv;
}

export interface EtlResult extends EtlRunSummary {
  states: EtlHourState[];
  /** True when the run stopped early on the signal. */
  stopped: boolean;
}

const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Runs the ETL over raw hours: each hour's raw objects are framed into records, transformed by
 * the SQL in src/etl/sql/ and written as that hour's partition of every curated table, replacing
 * the hour's previous partition (so a rerun changes nothing and never touches other hours).
 * Current state across hours is resolved at read time (see curated.ts), so one hour's cost does
 * not depend on the history already in the lake. Records the hour's state in `_state/etl/`.
 */
export async function runEtl(store: ObjectStore, options: RunEtlOptions = {}): Promise<EtlResult> {
  const engine = options.engine ?? 'duckdb';
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const rawByHour = await rawObjectsByHour(store);
  const hours = await selectHours(store, options.select ?? { pending: true }, rawByHour);
  const states: EtlHourState[] = [];
  let stopped = false;
  if (hours.length > 0) {
    if (engine === 'duckdb') {
      stopped = await runDuckdb(store, hours, rawByHour, states, options, now);
    } else {
      await runSpark(store, hours, rawByHour, states, options, now);
    }
  }
  const finishedAt = now();
  const summary: EtlRunSummary = {
    engine,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    hours: states.map((s) => s.hour),
    failed: states.filter((s) => s.status === 'failed').map((s) => s.hour),
    rawRecords: sum(states, 'rawRecords'),
    validRecords: sum(states, 'validRecords'),
    quarantined: sum(states, 'quarantined'),
  };
  if (states.length > 0) await writeRunSummary(store, summary);
  return { ...summary, states, stopped };
}

function sum(states: EtlHourState[], key: 'rawRecords' | 'validRecords' | 'quarantined'): number {
  return states.reduce((n, s) => n + s[key], 0);
}


async function selectHours(store: ObjectStore, select: HourSelection, raw: Map<HourId, ObjectInfo[]>): Promise<HourId[]> {
  if ('hours' in select) return [...new Set(select.hours)].sort();
  if ('all' in select) return [...raw.keys()].sort();
  const done = new Map((await readEtlState(store)).hours.map((h) => [h.hour, h]));
  return [...raw.entries()]
    .filter(([hour, objects]) => {
      const state = done.get(hour);
      return !state || state.status !== 'done' || Math.max(...objects.map((o) => o.mtimeMs)) > state.rawNewestMtimeMs;
    })
    .map(([hour]) => hour)
    .sort();
}

/** A folder for an engine's output before it is published into the lake. */
async function scratchDir(store: ObjectStore): Promise<string> {
  // Inside a local lake (a hidden name, so list() skips it) so publishing is a rename, not a copy.
  const inLake = store.localPath(`.etl-${process.pid}-${randomBytes(4).toString('hex')}`);
  const dir = inLake ?? path.join(os.tmpdir(), `openevents-etl-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

async function runDuckdb(
  store: ObjectStore,
  hours: HourId[],
  raw: Map<HourId, ObjectInfo[]>,
  states: EtlHourState[],
  options: RunEtlOptions,
  now: () => Date,
): Promise<boolean> {
  const scratch = await scratchDir(store);
  try {
    for (const [index, hour] of hours.entries()) {
      if (options.signal?.aborted) return true;
      const startedAt = now();
      const objects = raw.get(hour) ?? [];
      let state: EtlHourState;
      // A fresh in-memory database per hour: nothing carries over, so an hour costs the same
      // whether it is the first or the thousandth of a run.
      const instance = await DuckDBInstance.create(':memory:', { memory_limit: DUCKDB_MEMORY_LIMIT, preserve_insertion_order: 'false' });
      const connection = await instance.connect();
      try {
        const counts = await duckdbHour(connection, store, hour, objects, path.join(scratch, hour), startedAt);
        state = hourState(hour, 'done', 'duckdb', startedAt, now(), objects, counts);
      } catch (error) {
        state = hourState(hour, 'failed', 'duckdb', startedAt, now(), objects, { raw: 0, valid: 0, quarantined: 0 });
        state.error = errorMessage(error);
      } finally {
        connection.closeSync();
        instance.closeSync();
      }
      await writeHourState(store, state);
      states.push(state);
      options.onHour?.(state, index, hours.length);
    }
    return false;
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/** DuckDB's memory limit for one hour's run (it spills to disk beyond it). */
const DUCKDB_MEMORY_LIMIT = '1GB';

interface HourCounts {
  raw: number;
  valid: number;
  quarantined: number;
}

function hourState(
  hour: HourId,
  status: 'done' | 'failed',
  engine: EtlEngine,
  startedAt: Date,
  finishedAt: Date,
  objects: ObjectInfo[],
  counts: HourCounts,
): EtlHourState {
  return {
    hour,
    status,
    engine,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    rawObjects: objects.length,
    rawBytes: objects.reduce((n, o) => n + o.size, 0),
    rawNewestMtimeMs: objects.reduce((n, o) => Math.max(n, o.mtimeMs), 0),
    rawRecords: counts.raw,
    validRecords: counts.valid,
    quarantined: counts.quarantined,
  };
}

/** One hour on DuckDB: frame → load → SQL steps → Parquet per table → publish the hour's partitions. */
async function duckdbHour(
  connection: DuckDBConnection,
  store: ObjectStore,
  hour: HourId,
  objects: ObjectInfo[],
  outDir: string,
  processedAt: Date,
): Promise<HourCounts> {
  await connection.run(`CREATE OR REPLACE TABLE raw_records (arrival_hour VARCHAR, source_key VARCHAR, line_no BIGINT, raw VARCHAR)`);
  await connection.run(`CREATE OR REPLACE TABLE etl_hours AS SELECT ${sqlString(hour)} AS arrival_hour`);
  const appender = await connection.createAppender('raw_records');
  for (const object of objects) {
    const bytes = await store.get(object.key);
    if (!bytes) continue; // deleted since the listing
    const records = frameRecords(bytes);
    for (let i = 0; i < records.length; i++) {
      appender.appendVarchar(hour);
      appender.appendVarchar(object.key);
      appender.appendBigInt(BigInt(i + 1));
      appender.appendVarchar(records[i] as string);
      appender.endRow();
    }
  }
  appender.closeSync();
  await fs.rm(outDir, { recursive: true, force: true });
  await fs.mkdir(outDir, { recursive: true });
  for (const step of loadSteps('duckdb', { processed_at: processedAt.toISOString().replace('T', ' ').replace('Z', '') })) {
    if (!step.output) {
      await connection.run(`CREATE OR REPLACE TABLE ${quoteIdent(step.name)} AS ${step.sql}`);
      continue;
    }
    const key = TABLES[step.name as keyof typeof TABLES].key.filter((k) => k !== 'arrival_hour');
    const order = key.length > 0 ? ` ORDER BY ${key.map(quoteIdent).join(', ')}` : '';
    await connection.run(
      `COPY (SELECT * FROM (${step.sql}) t${order}) TO ${sqlString(path.join(outDir, step.name))} ` +
        `(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (arrival_hour), OVERWRITE_OR_IGNORE true, FILENAME_PATTERN 'part-{i}')`,
    );
  }
  await publishHour(store, hour, outDir);
  const reader = await connection.runAndReadAll(
    `SELECT CAST(count(*) AS DOUBLE) AS raw, CAST(count(*) FILTER (WHERE reason IS NULL) AS DOUBLE) AS valid FROM records`,
  );
  const row = reader.getRowObjectsJson()[0] ?? {};
  const rawCount = Number(row.raw ?? 0);
  const valid = Number(row.valid ?? 0);
  return { raw: rawCount, valid, quarantined: rawCount - valid };
}

/**
 * Replaces an hour's partition of every curated table with the files in `outDir/<table>/arrival_hour=<hour>/`:
 * new files are put first (each put is atomic), then files of the old partition that the new one
 * does not have are deleted. A table with no rows for the hour ends with no files for it.
 */
export async function publishHour(store: ObjectStore, hour: HourId, outDir: string): Promise<void> {
  for (const table of CURATED_TABLES) {
    const prefix = `${CURATED}/${table}/arrival_hour=${hour}/`;
    const local = path.join(outDir, table, `arrival_hour=${hour}`);
    const names = (await fs.readdir(local).catch(() => [] as string[])).filter((n) => n.endsWith('.parquet')).sort();
    const old = await listAll(store, prefix);
    for (const name of names) await store.putFile(prefix + name, path.join(local, name), { contentType: 'application/vnd.apache.parquet' });
    for (const o of old) if (!names.includes(o.key.slice(prefix.length))) await store.delete(o.key);
  }
}

/** Spark: one spark-submit of spark/jobs/etl.py over all the hours, in local[*] mode. */
async function runSpark(
  store: ObjectStore,
  hours: HourId[],
  raw: Map<HourId, ObjectInfo[]>,
  states: EtlHourState[],
  options: RunEtlOptions,
  now: () => Date,
): Promise<void> {
  const root = options.projectRoot ?? PROJECT_ROOT;
  const sparkSubmit = path.join(root, '.venv/bin/spark-submit');
  if (!(await fs.stat(sparkSubmit).catch(() => undefined))) {
    throw new UserError(`spark-submit not found at ${sparkSubmit}`, { hint: 'run `npm run setup` to create the Python environment, or use --engine duckdb' });
  }
  const startedAt = now();
  const args = [
    '--master',
    'local[*]',
    // In local mode the driver is the executor: the default 1 GB makes a day of events spill and thrash.
    '--driver-memory',
    '2g',
    '--conf',
    'spark.ui.enabled=false',
    // local[*] on one machine: a handful of shuffle partitions, not the cluster default of 200.
    '--conf',
    'spark.sql.shuffle.partitions=4',
    path.join(root, 'spark/jobs/etl.py'),
    '--lake',
    store.url,
    '--hours',
    hours.join(','),
    '--sql-dir',
    SQL_DIR,
    '--processed-at',
    startedAt.toISOString().replace('T', ' ').replace('Z', ''),
  ];
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(sparkSubmit, args, {
      cwd: root,
      // spark-submit finds its home and Python through PATH: put the project's .venv first.
      env: {
        ...process.env,
        ...options.env,
        PATH: `${path.join(root, '.venv/bin')}${path.delimiter}${options.env?.PATH ?? process.env.PATH ?? ''}`,
        PYSPARK_PYTHON: path.join(root, '.venv/bin/python'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
    const onAbort = (): void => void child.kill('SIGTERM');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', reject);
    child.once('exit', (c) => {
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ code: c, stdout: out, stderr: err });
    });
  });
  const finishedAt = now();
  const counts = new Map<string, HourCounts>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const r = JSON.parse(line) as { hour?: string; raw_records?: number; valid_records?: number; quarantined?: number };
      if (r.hour) counts.set(r.hour, { raw: r.raw_records ?? 0, valid: r.valid_records ?? 0, quarantined: r.quarantined ?? 0 });
    } catch {
      /* a log line that happens to start with '{' */
    }
  }
  for (const [index, hour] of hours.entries()) {
    const c = counts.get(hour);
    const ok = code === 0 && c !== undefined;
    const state = hourState(hour, ok ? 'done' : 'failed', 'spark', startedAt, finishedAt, raw.get(hour) ?? [], c ?? { raw: 0, valid: 0, quarantined: 0 });
    if (!ok) state.error = `spark-submit exited ${code}: ${lastLines(stderr, 5)}`;
    await writeHourState(store, state);
    states.push(state);
    options.onHour?.(state, index, hours.length);
  }
}

/** The most telling lines of a failed job's stderr: its last exception, else its last lines. */
function lastLines(text: string, n: number): string {
  const lines = text.trim().split('\n');
  const errors = lines.filter((l) => /^\S.*(Exception|Error)\b.*:/.test(l) && !/^\d\d\/\d\d\/\d\d .* (WARN|INFO)/.test(l));
  return (errors.length > 0 ? errors.slice(-1) : lines.slice(-n)).join(' | ').slice(0, 2000);
}
