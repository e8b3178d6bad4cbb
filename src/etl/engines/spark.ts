import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runSparkSubmit, sparkFailure } from '../../jobs/spark-submit.ts';
import type { HourId } from '../../lake/layout.ts';
import { SQL_DIR } from '../dialect.ts';
import type { BatchResult, Engine, EngineBatch, EngineContext, EngineSegment, HourCounts } from '../engine.ts';
import type { ObjectStore } from '../../lake/store.ts';
import { dropInputCopies, localInputs } from '../inputs.ts';
import type { CuratedTable } from '../tables.ts';

export interface SparkEngineOptions {
  /** The project root holding .venv/ and spark/ (default: this checkout). */
  projectRoot?: string;
  /** Extra environment for spark-submit. */
  env?: NodeJS.ProcessEnv;
}

/** One line of spark/jobs/etl.py's output. */
interface JobLine {
  batch: number;
  hour?: string;
  error?: string;
  raw_records?: number;
  valid_records?: number;
  quarantined?: number;
  table?: CuratedTable;
  unit?: string;
  /** The hours a file holds (those of its unit that did not fail). */
  hours?: string[];
  file?: string;
  key?: string;
  bytes?: number;
  rows?: number;
  done?: boolean;
}

/**
 * The Spark engine: spark/jobs/etl.py run by the local spark-submit, every batch of the run in one
 * application (one Spark job per batch, one JVM start for the run). Each batch's result streams
 * back as JSON lines and is handed to the caller as soon as its "done" line arrives. Raw objects
 * are read as local files: a local lake's own, an s3:// lake's copies in the object cache
 * (`localInputs`), copied a group of batches at a time and removed once read.
 */
export class SparkEngine implements Engine {
  readonly name = 'spark' as const;

  constructor(private readonly options: SparkEngineOptions = {}) {}

  async run(batches: readonly EngineBatch[], context: EngineContext, done: (batch: EngineBatch, result: BatchResult) => Promise<void>): Promise<void> {
    // An s3:// lake's objects are copied into the object cache first: in groups, so the copies on disk stay bounded.
    for (const group of copyGroups(context.store, batches)) {
      if (context.signal?.aborted) return;
      const local = await Promise.all(group.map(async (b) => ({ ...b, inputs: await localInputs(context.store, b.inputs) })));
      try {
        await this.runApplication(local, context, done);
      } finally {
        for (const b of local) await dropInputCopies(context.store, b.inputs);
      }
    }
  }

  /** One Spark application for the batches (their inputs local files). */
  private async runApplication(batches: readonly EngineBatch[], context: EngineContext, done: (batch: EngineBatch, result: BatchResult) => Promise<void>): Promise<void> {
    if (batches.length === 0) return;
    const plan = path.join(context.scratch, `spark-plan-${batches[0]!.index}.json`);
    await fs.writeFile(
      plan,
      JSON.stringify(
        batches.map((b) => ({
          index: b.index,
          hours: b.hours,
          units: b.units,
          // An input without a file (its object is gone) is named by a file that does not exist: the job fails its hour.
          inputs: b.inputs.map((i) => ({ hour: i.hour, key: i.key, url: pathToFileURL(i.path ?? path.join(context.scratch, 'gone', i.key)).href })),
        })),
      ),
    );
    const byIndex = new Map(batches.map((b) => [b.index, b]));
    const results = new Map<number, { hours: Map<HourId, HourCounts | { error: string }>; segments: Map<string, EngineSegment> }>();
    const reported = new Set<number>();
    // Commits run one at a time, in the order batches finish, while Spark goes on with the next one.
    let queue = Promise.resolve();
    const finish = (index: number, result: BatchResult): void => {
      const batch = byIndex.get(index);
      if (!batch || reported.has(index)) return;
      reported.add(index);
      queue = queue.then(() => done(batch, result));
    };
    const onLine = (text: string): void => {
      if (!text.startsWith('{')) return;
      let line: JobLine;
      try {
        line = JSON.parse(text) as JobLine;
      } catch {
        return; // a log line that happens to start with '{'
      }
      const batch = byIndex.get(line.batch);
      if (!batch) return;
      let r = results.get(line.batch);
      if (!r) results.set(line.batch, (r = { hours: new Map(), segments: new Map() }));
      if (line.done) {
        finish(line.batch, { ok: true, hours: r.hours, segments: [...r.segments.values()] });
      } else if (line.file && line.table && line.unit) {
        let segment = r.segments.get(line.unit);
        if (!segment) r.segments.set(line.unit, (segment = { unit: line.unit, hours: line.hours ?? batch.hours.filter((h) => batch.units[h] === line.unit), files: {} }));
        segment.files[line.table] = { file: localPathOf(line.file), rows: line.rows ?? 0 };
      } else if (line.hour && line.error) {
        r.hours.set(line.hour, { error: line.error });
      } else if (line.hour) {
        r.hours.set(line.hour, { raw: line.raw_records ?? 0, valid: line.valid_records ?? 0, quarantined: line.quarantined ?? 0 });
      } else if (line.error) {
        finish(line.batch, { ok: false, error: line.error });
      }
    };
    const result = await runSparkSubmit(
      {
        script: 'spark/jobs/etl.py',
        args: [
          '--plan',
          plan,
          '--out',
          pathToFileURL(path.join(context.scratch, 'spark-out')).href,
          '--sql-dir',
          SQL_DIR,
          '--processed-at',
          batches[0]!.processedAt.toISOString().replace('T', ' ').replace('Z', ''),
        ],
      },
      { ...this.options, ...(context.signal ? { signal: context.signal } : {}), onLine },
    );
    await queue;
    if (result.stopped) return;
    // Batches the application never reported (it died): failed with the job's own reason.
    const reason = result.code === 0 ? 'the Spark job ended without reporting this batch' : sparkFailure(result);
    for (const batch of batches) if (!reported.has(batch.index)) finish(batch.index, { ok: false, error: reason });
    await queue;
  }
}

/** The job prints Hadoop paths: file:/abs or file:///abs. */
function localPathOf(file: string): string {
  return file.startsWith('file:') ? fileURLToPath(file.replace(/^file:\/*/, 'file:///')) : file;
}

/** Bytes of an s3:// lake's objects copied at once for one application. */
const COPY_GROUP_BYTES = 2 * 1024 ** 3;

/** The batches in groups whose inputs fit COPY_GROUP_BYTES (one group for a local lake: nothing is copied). */
function copyGroups(store: ObjectStore, batches: readonly EngineBatch[]): EngineBatch[][] {
  if (batches.every((b) => b.inputs.every((i) => i.path !== undefined || store.localPath(i.key) !== undefined))) return batches.length > 0 ? [[...batches]] : [];
  const groups: EngineBatch[][] = [];
  let bytes = 0;
  for (const batch of batches) {
    const size = batch.inputs.reduce((n, i) => n + i.size, 0);
    if (groups.length === 0 || (bytes + size > COPY_GROUP_BYTES && groups.at(-1)!.length > 0)) {
      groups.push([]);
      bytes = 0;
    }
    groups.at(-1)!.push(batch);
    bytes += size;
  }
  return groups;
}
