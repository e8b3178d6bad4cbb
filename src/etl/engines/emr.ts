import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { UserError, errorMessage } from '../../errors.ts';
import type { EmrSettings } from '../../emr/settings.ts';
import type { EmrJobRunner } from '../../jobs/emr.ts';
import { emrSparkStep } from '../../jobs/spark-submit.ts';
import { JobRunningError, type JobSpec, type JobStepSpec } from '../../jobs/runner.ts';
import { isActive, type JobRecord } from '../../jobs/types.ts';
import type { HourId } from '../../lake/layout.ts';
import { getJson, listAll, putJson, type ObjectStore } from '../../lake/store.ts';
import type { BatchResult, Engine, EngineBatch, EngineContext, EngineSegment, HourCounts } from '../engine.ts';
import type { CuratedTable } from '../tables.ts';

/**
 * The EMR engine: every batch of a run as one spark-submit step (spark/jobs/etl.py) on one EMR
 * cluster, reading the raw objects and writing the segment files in S3 (the lake must be s3://).
 *
 * The plan of batches is written to the lake, under a name made of its content
 * (`_emr/etl/<first>_<last>-<hash>/plan.json`); the job moves each file it writes to its
 * content-named key under curated/ and writes each batch's result to `…/results/batch-<i>.json`
 * as the batch ends. The engine polls for those results and hands each to the caller, which
 * commits it (the table manifest) while the cluster goes on. The same plan is never run twice at
 * once: an active cluster already running it (a killed `etl`, or `emr run`) is waited for, and
 * results already there (a cluster that ended while nobody waited) are committed without a
 * cluster. A batch that failed is reported as failed (the caller splits it); a cluster that
 * failed as a whole is an error naming it.
 */
export class EmrEngine implements Engine {
  readonly name = 'emr' as const;

  constructor(private readonly options: EmrEngineOptions) {}

  async run(batches: readonly EngineBatch[], context: EngineContext, done: (batch: EngineBatch, result: BatchResult) => Promise<void>): Promise<void> {
    if (batches.length === 0) return;
    const { store, signal } = context;
    let plan = etlPlan(this.options.settings, batches);
    const pending = new Map(batches.map((b) => [b.index, b]));
    const collect = async (): Promise<void> => {
      for (const [index, result] of await readResults(store, plan, [...pending.keys()])) {
        const batch = pending.get(index)!;
        pending.delete(index);
        await done(batch, result);
      }
    };
    // Results of a cluster that ran this plan before (nobody was waiting for it).
    await collect();
    if (pending.size === 0) return cleanUp(store, plan);
    if (this.options.collectOnly) {
      for (const batch of pending.values()) await done(batch, { ok: false, error: `no result of this batch under ${plan.prefix}results/` });
      return;
    }
    const runner = this.runner();
    let job = await runner.clusters.activeRunning(plan.uri);
    if (!job && pending.size < batches.length) {
      // A cluster ran part of this plan and ended: the rest is a plan of its own.
      await cleanUp(store, plan);
      plan = etlPlan(this.options.settings, [...pending.values()]);
      await collect();
      if (pending.size === 0) return cleanUp(store, plan);
    }
    job ??= await this.submit(store, plan);
    const pollMs = this.options.pollMs ?? this.options.settings.pollSeconds * 1000;
    let record: JobRecord | undefined = job;
    while (pending.size > 0 && !signal?.aborted) {
      await sleep(pollMs, signal);
      await collect();
      if (pending.size === 0) break;
      record = await runner.clusters.record(job.id);
      if (!record || !isActive(record)) {
        await collect(); // results written just before the end
        break;
      }
    }
    // Stopped: the cluster goes on; running the same selection again collects its results.
    if (signal?.aborted) return;
    if (pending.size > 0) {
      const why = record?.reason ?? `cluster ${job.id} ended (${record?.cluster?.state ?? 'gone'})`;
      throw new UserError(`the EMR cluster ${job.id} ended without finishing ${pending.size} of ${batches.length} ETL batch(es): ${why}`, {
        hint: `see \`openevents emr status ${job.id}\` and \`openevents emr logs ${job.id}\`; the batches it finished are committed, running the ETL again does the rest`,
      });
    }
    await cleanUp(store, plan);
  }

  /** Writes the plan and starts its cluster, or finds the active cluster already running it. */
  async submit(store: ObjectStore, plan: EtlPlan): Promise<JobRecord> {
    const runner = this.runner();
    const running = await runner.clusters.activeRunning(plan.uri);
    if (running) return running;
    await putJson(store, plan.key, plan.doc);
    try {
      return await runner.start(etlJob(plan, this.options.settings));
    } catch (error) {
      if (error instanceof JobRunningError) return error.job;
      throw error;
    }
  }

  private runner(): EmrJobRunner {
    if (!this.options.runner) throw new Error('the emr engine starts clusters only with a job runner (collectOnly has none)');
    return this.options.runner;
  }
}

export interface EmrEngineOptions {
  /** Starts and watches the cluster; not needed with `collectOnly`. */
  runner?: EmrJobRunner;
  settings: EmrSettings;
  /** How often results and the cluster are looked at (default: aws.emr.pollSeconds). */
  pollMs?: number;
  /** Only commit results already written (a cluster that has ended); a batch without one fails, no cluster is started. */
  collectOnly?: boolean;
}

/** A plan of batches as the cluster reads it, and where it lives in the lake. */
export interface EtlPlan {
  /** `<first hour>_<last hour>-<hash of the batches>`: the same batches, the same plan. */
  id: string;
  /** Its folder in the lake (a key prefix): plan.json, results/, out/. */
  prefix: string;
  /** The plan document's key in the lake, and its s3:// URI. */
  key: string;
  uri: string;
  hours: HourId[];
  doc: { id: string; batches: Array<{ index: number; hours: HourId[]; units: Record<HourId, string>; inputs: Array<{ hour: HourId; key: string; url: string }> }> };
  processedAt: string;
}

/** The lake's folder of EMR ETL plans. */
export const EMR_ETL_PREFIX = '_emr/etl/';

/** The plan of these batches: named by their content (hours, units and raw objects), not by when it is made. */
export function etlPlan(settings: EmrSettings, batches: readonly EngineBatch[]): EtlPlan {
  const docBatches = batches.map((b) => ({
    index: b.index,
    hours: b.hours,
    units: b.units,
    inputs: b.inputs.map((i) => ({ hour: i.hour, key: i.key, url: `${settings.lake}${i.key}` })),
  }));
  const versions = batches.flatMap((b) => b.inputs.map((i) => `${i.key}\t${i.size}\t${i.etag ?? i.mtimeMs}`));
  const hash = createHash('sha256').update(JSON.stringify(docBatches)).update(versions.join('\n')).digest('hex').slice(0, 16);
  const hours = [...new Set(batches.flatMap((b) => b.hours))].sort();
  const id = `${hours[0]}_${hours.at(-1)}-${hash}`;
  const prefix = `${EMR_ETL_PREFIX}${id}/`;
  return {
    id,
    prefix,
    key: `${prefix}plan.json`,
    uri: `${settings.lake}${prefix}plan.json`,
    hours,
    doc: { id, batches: docBatches },
    processedAt: batches[0]!.processedAt.toISOString().replace('T', ' ').replace('Z', ''),
  };
}

/** The EMR step that runs a plan: etl.py reading the plan from S3, publishing into the lake, writing its results beside the plan. */
export function etlStep(plan: EtlPlan, lake: string): JobStepSpec {
  const folder = plan.uri.slice(0, -'plan.json'.length);
  const label = `etl ${plan.hours.length === 1 ? plan.hours[0] : `${plan.hours[0]}..${plan.hours.at(-1)}`}`;
  return {
    label,
    ...(plan.hours.length === 1 ? { hour: plan.hours[0]! } : {}),
    argv: emrSparkStep('spark/jobs/etl.py', [
      '--plan',
      plan.uri,
      '--out',
      `${folder}out`,
      '--results',
      `${folder}results`,
      '--publish',
      lake.replace(/\/$/, ''),
      '--processed-at',
      plan.processedAt,
    ]),
  };
}

/** The job of the EMR engine: one cluster, one step, keyed by the plan. */
function etlJob(plan: EtlPlan, settings: EmrSettings): JobSpec {
  const step = etlStep(plan, settings.lake);
  return { kind: 'etl', label: step.label, key: `etl/${plan.id}`, steps: [step] };
}

/** One result document of the job (spark/jobs/etl.py --results). */
interface ResultDoc {
  plan: string | null;
  lines: Array<{
    batch: number;
    done?: boolean;
    error?: string;
    hour?: string;
    raw_records?: number;
    valid_records?: number;
    quarantined?: number;
    table?: CuratedTable;
    unit?: string;
    hours?: HourId[];
    key?: string;
    bytes?: number;
    rows?: number;
  }>;
}

/** The results the job has written so far for these batches, by batch index. */
async function readResults(store: ObjectStore, plan: EtlPlan, indexes: readonly number[]): Promise<Map<number, BatchResult>> {
  const out = new Map<number, BatchResult>();
  const wanted = new Set(indexes);
  for (const info of await listAll(store, `${plan.prefix}results/`)) {
    const index = Number(/\/batch-(\d+)\.json$/.exec(info.key)?.[1] ?? NaN);
    if (!wanted.has(index)) continue;
    let doc: ResultDoc | undefined;
    try {
      doc = await getJson<ResultDoc>(store, info.key);
    } catch (error) {
      out.set(index, { ok: false, error: `its result ${info.key} cannot be read: ${errorMessage(error)}` });
      continue;
    }
    if (doc) out.set(index, toBatchResult(doc.lines));
  }
  return out;
}

/** A batch's result lines as the engine seam's result: files are already in the lake under their content-named keys. */
export function toBatchResult(lines: ResultDoc['lines']): BatchResult {
  const failure = lines.find((l) => l.error !== undefined && l.hour === undefined);
  if (failure) return { ok: false, error: failure.error! };
  if (!lines.some((l) => l.done)) return { ok: false, error: 'the job reported this batch without finishing it' };
  const hours = new Map<HourId, HourCounts | { error: string }>();
  const segments = new Map<string, EngineSegment>();
  for (const l of lines) {
    if (l.hour !== undefined && l.error !== undefined) hours.set(l.hour, { error: l.error });
    else if (l.hour !== undefined) hours.set(l.hour, { raw: l.raw_records ?? 0, valid: l.valid_records ?? 0, quarantined: l.quarantined ?? 0 });
    else if (l.table && l.unit && l.key) {
      let segment = segments.get(l.unit);
      if (!segment) segments.set(l.unit, (segment = { unit: l.unit, hours: l.hours ?? [], files: {} }));
      segment.files[l.table] = { key: l.key, bytes: l.bytes ?? 0, rows: l.rows ?? 0 };
    }
  }
  return { ok: true, hours, segments: [...segments.values()] };
}

/** Removes a finished plan's folder (plan, results, anything the job left in out/). */
async function cleanUp(store: ObjectStore, plan: EtlPlan): Promise<void> {
  for (const info of await listAll(store, plan.prefix)) await store.delete(info.key);
}

/** Waits, or less when the signal aborts. */
async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await delay(ms, undefined, signal ? { signal } : {}).catch(() => undefined);
}
