import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAlive } from '../jobs/local.ts';
import { CURATED, rawHourPrefix, type HourId, type HourManifest } from '../lake/layout.ts';
import { getJson, listAll, putJson, type ObjectStore } from '../lake/store.ts';
import { compactTables, type CompactionResult, type CompactionTask } from './compact.ts';
import { refreshSnapshot } from './curated.ts';
import type { BatchResult, Engine, EngineBatch, EngineFile, HourCounts, RawInput } from './engine.ts';
import { createEngine } from './engines/index.ts';
import { listRawInputs, readRawManifests } from './inputs.ts';
import { migrateLegacyLayout } from './migrate.ts';
import {
  commitSegments,
  hourOwners,
  ownedHours,
  publishSegmentFile,
  readTableManifest,
  sweepOrphans,
  unitOf,
  type NewSegment,
  type SegmentFile,
  type TableManifest,
} from './segments.ts';
import {
  ETL_STATE,
  readEtlState,
  writeHourStates,
  writeRunSummary,
  type EngineName,
  type EtlHourState,
  type EtlRunSummary,
} from './state.ts';
import type { CuratedTable } from './tables.ts';

/** Which hours a run covers: explicit hours, every raw hour, or (default) the pending ones. */
export type HourSelection = { hours: HourId[] } | { all: true } | { pending: true };

export interface RunEtlOptions {
  select?: HourSelection;
  /** The engine by name (config `etl.engine`), or an engine of your own. */
  engine?: EngineName | Engine;
  /** Bounds of one engine pass: raw records (known from manifests or object names, else estimated) ... */
  batchRecords?: number;
  /** ... and raw bytes as stored. An hour bigger than both is a batch of its own. */
  batchBytes?: number;
  /** A day or month is closed (and compacted) this long after its last hour ended (default 5 min). */
  graceMs?: number;
  /** Merge the small segments of closed days and months after the run (default true). */
  compact?: boolean;
  /** Start over even if the same selection was interrupted (default: resume it). */
  restart?: boolean;
  /**
   * Bring the current-state snapshot up to date after the run, so the next query does not pay for
   * it (default: for a local lake, whose snapshot lives in the lake's cache folder).
   */
  refreshSnapshot?: boolean;
  /** Called as each hour is committed (or fails). */
  onHour?: (state: EtlHourState, index: number, total: number) => void;
  /** Called as the run advances: after planning, each batch, each compaction step. */
  onProgress?: (progress: EtlProgress) => void;
  /** Stops between batches (and between compaction steps); finished batches stay committed. */
  signal?: AbortSignal;
  now?: () => Date;
  /** The project root holding .venv/ and spark/ (default: this checkout). */
  projectRoot?: string;
  /** Extra environment for spark-submit. */
  env?: NodeJS.ProcessEnv;
}

/** Where a run is, for progress lines: hours and records done of the total, batches, compaction. */
export interface EtlProgress {
  phase: 'batches' | 'compaction';
  hoursTotal: number;
  hoursDone: number;
  hoursFailed: number;
  /** Records of the run's hours: known from manifests and object names, else estimated from bytes. */
  recordsTotal: number;
  recordsDone: number;
  batchesTotal: number;
  batchesDone: number;
  elapsedMs: number;
  /** The batch just committed (phase 'batches'). */
  batch?: { hours: HourId[]; records: number; valid: number; quarantined: number; failed: number; durationMs: number };
  /** The merge starting (phase 'compaction'). */
  compaction?: { task: CompactionTask; index: number; total: number };
}

export interface EtlResult extends EtlRunSummary {
  states: EtlHourState[];
  /** True when the run stopped early on the signal. */
  stopped: boolean;
  /** Engine passes that committed. */
  batches: number;
  compactions: CompactionResult[];
  /** Hours an interrupted run of the same selection had finished, not processed again. */
  resumed: HourId[];
  /** What the run noticed and did about it (missing curated files rebuilt, a migration). */
  notes: string[];
  /** Time spent bringing the snapshot up to date after the run (0 when not refreshed). */
  snapshotMs: number;
}

/** Default bounds of one engine pass (memory stays flat: DuckDB spills beyond its limit). */
export const BATCH_RECORDS = 100_000;
export const BATCH_BYTES = 256 * 1024 * 1024;

/**
 * Runs the ETL over raw hours in batches: each batch is one engine pass over many hours (so the
 * cost follows the records, not the number of hours), written as one segment per unit and
 * committed to the table manifest as it ends — a killed run keeps its finished batches, and
 * running the same selection again resumes after them. A batch that fails as a whole is split
 * until the failing hour is alone; an hour whose raw object cannot be read, or that would hold
 * fewer records than its manifest promises, fails alone and is named. Rerunning an hour replaces
 * exactly its rows (the new segment masks it in the old one). Afterwards, closed days and months
 * are compacted. Records each hour's state in `_state/etl/`.
 */
export async function runEtl(store: ObjectStore, options: RunEtlOptions = {}): Promise<EtlResult> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const engineName = typeof options.engine === 'object' ? options.engine.name : (options.engine ?? 'duckdb');
  const graceMs = options.graceMs ?? 5 * 60_000;
  const notes: string[] = [];
  await removeStaleScratch(store);
  const scratch = await scratchDir(store);
  const states: EtlHourState[] = [];
  let batches = 0;
  let stopped = false;
  let compactions: CompactionResult[] = [];
  let resumed: HourId[] = [];
  let snapshotMs = 0;
  try {
    const migrated = await migrateLegacyLayout(store, { scratch, nowMs: startedAt.getTime(), graceMs });
    if (migrated) notes.push(`migrated the curated tables of ${migrated} hour(s) from hour partitions to segments (docs/tables.md)`);
    const manifest = await readTableManifest(store);
    await sweepOrphans(store, manifest, startedAt.getTime());
    const select = options.select ?? { pending: true };
    const raw = await listRawInputs(store, 'hours' in select ? select.hours : undefined);
    let hours = await selectHours(store, select, raw, manifest, notes);

    const journal = await openJournal(store, select, engineName, startedAt, options.restart ?? false);
    if (journal.resumeFrom) {
      const done = new Map((await readEtlState(store)).hours.map((h) => [h.hour, h]));
      resumed = hours.filter((h) => {
        const s = done.get(h);
        return s?.status === 'done' && s.startedAt >= (journal.resumeFrom as string);
      });
      const skip = new Set(resumed);
      hours = hours.filter((h) => !skip.has(h));
      if (resumed.length > 0) notes.push(`resuming the run started ${journal.resumeFrom}: ${resumed.length} hour(s) it finished are kept`);
    }

    const rawManifests = await readRawManifests(store, hours);
    const progress: EtlProgress = {
      phase: 'batches',
      hoursTotal: hours.length,
      hoursDone: 0,
      hoursFailed: 0,
      recordsTotal: 0,
      recordsDone: 0,
      batchesTotal: 0,
      batchesDone: 0,
      elapsedMs: 0,
    };
    const report = (): void => options.onProgress?.({ ...progress, elapsedMs: now().getTime() - startedAt.getTime() });
    const record = async (list: EtlHourState[]): Promise<void> => {
      if (list.length === 0) return;
      await writeHourStates(store, list);
      for (const s of list) {
        states.push(s);
        if (s.status === 'failed') progress.hoursFailed++;
        else {
          progress.hoursDone++;
          progress.recordsDone += s.rawRecords;
        }
        options.onHour?.(s, states.length - 1, hours.length);
      }
    };

    // Hours whose raw objects no longer match their manifest fail before any engine runs.
    const refused: EtlHourState[] = [];
    const runnable: HourId[] = [];
    for (const hour of hours) {
      const why = manifestMismatch(hour, raw.get(hour) ?? [], rawManifests.get(hour));
      if (why) refused.push(hourState(hour, engineName, startedAt, startedAt, raw.get(hour) ?? [], undefined, why));
      else runnable.push(hour);
    }
    await record(refused);

    const units = Object.fromEntries(runnable.map((h) => [h, unitOf(h, startedAt.getTime(), graceMs).unit]));
    const planned = planBatches(runnable, raw, rawManifests, units, options.batchRecords ?? BATCH_RECORDS, options.batchBytes ?? BATCH_BYTES);
    progress.recordsTotal = planned.reduce((n, b) => n + b.records, 0) + progress.recordsDone;
    progress.batchesTotal = planned.length;
    report();

    const engine =
      typeof options.engine === 'object'
        ? options.engine
        : createEngine(engineName, { ...(options.projectRoot ? { projectRoot: options.projectRoot } : {}), ...(options.env ? { env: options.env } : {}) });
    let nextIndex = 0;
    const toBatch = (hs: HourId[]): EngineBatch => ({
      index: nextIndex++,
      hours: hs,
      inputs: hs.flatMap((h) => raw.get(h) ?? []),
      units: Object.fromEntries(hs.map((h) => [h, units[h] as string])),
      processedAt: startedAt,
    });
    let queue = planned.map((b) => toBatch(b.hours));
    let batchStart = now();
    while (queue.length > 0 && !options.signal?.aborted) {
      const retry: EngineBatch[] = [];
      await engine.run(queue, { store, scratch, ...(options.signal ? { signal: options.signal } : {}) }, async (batch, result) => {
        const finished = now();
        const outcome = await commitBatch(store, batch, result, raw, rawManifests);
        retry.push(...outcome.retry.map(toBatch));
        progress.batchesTotal += outcome.retry.length;
        if (outcome.committed) {
          batches++;
          progress.batchesDone++;
        }
        const done = new Set(outcome.done);
        const list = [...outcome.done, ...outcome.failed.keys()].sort().map((hour) => {
          const counts = done.has(hour) && result.ok ? (result.hours.get(hour) as HourCounts) : undefined;
          return hourState(hour, engineName, batchStart, finished, raw.get(hour) ?? [], counts, outcome.failed.get(hour));
        });
        await record(list);
        if (outcome.committed) {
          progress.batch = {
            hours: outcome.done,
            records: sum(list, 'rawRecords'),
            valid: sum(list, 'validRecords'),
            quarantined: sum(list, 'quarantined'),
            failed: outcome.failed.size,
            durationMs: finished.getTime() - batchStart.getTime(),
          };
        }
        batchStart = finished;
        report();
        delete progress.batch;
      });
      queue = retry;
    }
    stopped = options.signal?.aborted ?? false;

    if ((options.compact ?? true) && !stopped) {
      progress.phase = 'compaction';
      compactions = await compactTables(store, {
        nowMs: now().getTime(),
        graceMs,
        scratch,
        ...(options.signal ? { signal: options.signal } : {}),
        onTask: (task, index, total) => {
          progress.compaction = { task, index, total };
          report();
        },
      });
      stopped = options.signal?.aborted ?? false;
    }
    if (!stopped) await journal.finish();
    if (!stopped && (options.refreshSnapshot ?? store.localPath(CURATED) !== undefined) && (batches > 0 || compactions.length > 0 || notes.length > 0)) {
      const t = now().getTime();
      await refreshSnapshot(store);
      snapshotMs = now().getTime() - t;
    }
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
  const finishedAt = now();
  const summary: EtlRunSummary = {
    engine: engineName,
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
  return { ...summary, states, stopped, batches, compactions, resumed, notes, snapshotMs };
}

function sum(states: EtlHourState[], key: 'rawRecords' | 'validRecords' | 'quarantined'): number {
  return states.reduce((n, s) => n + s[key], 0);
}

/** What became of a batch: hours committed, hours failed (with why), and hours to run again. */
interface BatchOutcome {
  committed: boolean;
  done: HourId[];
  failed: Map<HourId, string>;
  retry: HourId[][];
}

/**
 * Checks a batch's result, publishes its files and commits it. A batch that failed as a whole is
 * split in two to be run again (one hour alone fails with the error). An hour the engine read
 * fewer records of than its manifest promises fails, and the rest of the batch is run again
 * without it (its rows are in the batch's files, which are therefore not committed).
 */
async function commitBatch(
  store: ObjectStore,
  batch: EngineBatch,
  result: BatchResult,
  raw: ReadonlyMap<HourId, RawInput[]>,
  manifests: ReadonlyMap<HourId, HourManifest | Error>,
): Promise<BatchOutcome> {
  const failed = new Map<HourId, string>();
  if (!result.ok) {
    if (batch.hours.length === 1) failed.set(batch.hours[0] as HourId, result.error);
    const half = Math.ceil(batch.hours.length / 2);
    return { committed: false, done: [], failed, retry: batch.hours.length > 1 ? [batch.hours.slice(0, half), batch.hours.slice(half)] : [] };
  }
  const short = new Set<HourId>();
  for (const hour of batch.hours) {
    const counts = result.hours.get(hour);
    if (!counts) failed.set(hour, 'the engine reported nothing for this hour');
    else if ('error' in counts) failed.set(hour, counts.error);
    else {
      const m = manifests.get(hour);
      if (m && !(m instanceof Error) && counts.raw < m.records) {
        failed.set(hour, `${counts.raw} records read from ${(raw.get(hour) ?? []).length} raw object(s), but ${rawHourPrefix(hour)}_manifest.json promises ${m.records}: refusing to replace the hour with fewer records`);
        short.add(hour);
      }
    }
  }
  const good = batch.hours.filter((h) => !failed.has(h));
  if (short.size > 0) return { committed: false, done: [], failed, retry: good.length > 0 ? [good] : [] };
  const add: NewSegment[] = [];
  for (const segment of result.segments) {
    const files: Partial<Record<CuratedTable, SegmentFile>> = {};
    for (const [table, f] of Object.entries(segment.files) as Array<[CuratedTable, EngineFile]>) {
      files[table] = 'file' in f ? await publishSegmentFile(store, table, segment.hours, f.file, f.rows) : { key: f.key, rows: f.rows, bytes: f.bytes };
    }
    const counts = (h: HourId): number => ((result.hours.get(h) as HourCounts | undefined)?.raw ?? 0);
    add.push({ hours: Object.fromEntries(segment.hours.map((h) => [h, [0, counts(h)]])), files });
  }
  if (add.length > 0) await commitSegments(store, { add });
  return { committed: add.length > 0, done: good, failed, retry: [] };
}

function hourState(
  hour: HourId,
  engine: EngineName,
  startedAt: Date,
  finishedAt: Date,
  objects: readonly RawInput[],
  counts: HourCounts | undefined,
  error: string | undefined,
): EtlHourState {
  return {
    hour,
    status: error === undefined ? 'done' : 'failed',
    engine,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    rawObjects: objects.length,
    rawBytes: objects.reduce((n, o) => n + o.size, 0),
    rawNewestMtimeMs: objects.reduce((n, o) => Math.max(n, o.mtimeMs), 0),
    rawRecords: counts?.raw ?? 0,
    validRecords: counts?.valid ?? 0,
    quarantined: counts?.quarantined ?? 0,
    ...(error !== undefined ? { error } : {}),
  };
}

/** Why an hour must not be replaced: its manifest lists raw objects that are gone, or cannot be read. */
export function manifestMismatch(hour: HourId, objects: readonly RawInput[], manifest: HourManifest | Error | undefined): string | undefined {
  if (manifest === undefined) return undefined;
  if (manifest instanceof Error) return `${rawHourPrefix(hour)}_manifest.json cannot be read (${manifest.message}): check the hour with \`openevents lake check\``;
  const present = new Set(objects.map((o) => o.key));
  const missing = manifest.files.filter((f) => !present.has(f.key)).map((f) => f.key);
  if (missing.length === 0) return undefined;
  const listed = missing.slice(0, 3).join(', ') + (missing.length > 3 ? ` and ${missing.length - 3} more` : '');
  return (
    `${missing.length} raw object(s) its _manifest.json lists are missing (${listed}), ` +
    `${manifest.records} records promised: refusing to replace the hour with fewer records; restore them, or repair the lake with \`openevents lake check --repair\``
  );
}

/** The hours a selection covers. Pending: raw hours never done, failed, with newer raw objects, or whose curated rows are missing. */
async function selectHours(
  store: ObjectStore,
  select: HourSelection,
  raw: ReadonlyMap<HourId, RawInput[]>,
  manifest: TableManifest | undefined,
  notes: string[],
): Promise<HourId[]> {
  if ('hours' in select) return [...new Set(select.hours)].sort();
  if ('all' in select) return [...raw.keys()].sort();
  const done = new Map((await readEtlState(store)).hours.map((h) => [h.hour, h]));
  const owners = hourOwners(manifest);
  const lost = await hoursOfMissingFiles(store, manifest, notes);
  return [...raw.entries()]
    .filter(([hour, objects]) => {
      const state = done.get(hour);
      if (!state || state.status !== 'done' || lost.has(hour)) return true;
      if (!owners.has(hour)) return true;
      return objects.reduce((n, o) => Math.max(n, o.mtimeMs), 0) > state.rawNewestMtimeMs;
    })
    .map(([hour]) => hour)
    .sort();
}

/** Hours whose curated files are gone (deleted by hand, a lost disk): they are rebuilt from raw. */
async function hoursOfMissingFiles(store: ObjectStore, manifest: TableManifest | undefined, notes: string[]): Promise<Set<HourId>> {
  const out = new Set<HourId>();
  if (!manifest) return out;
  const present = new Set((await listAll(store, 'curated/')).map((i) => i.key));
  const owners = hourOwners(manifest);
  for (const segment of manifest.segments) {
    const gone = Object.values(segment.files).filter((f) => !present.has(f.key));
    if (gone.length === 0) continue;
    const hours = ownedHours(segment, owners);
    for (const h of hours) out.add(h);
    notes.push(`curated file(s) ${gone.map((f) => f.key).join(', ')} missing: rebuilding hours ${hours[0]} … ${hours.at(-1)} from raw`);
  }
  return out;
}

/** A planned batch: its hours and their records (estimated where unknown). */
interface PlannedBatch {
  hours: HourId[];
  records: number;
}

/**
 * Groups hours into batches bounded by records and bytes, keeping a unit's hours together where
 * they fit (a whole closed month written by one pass is already compacted).
 */
export function planBatches(
  hours: readonly HourId[],
  raw: ReadonlyMap<HourId, RawInput[]>,
  manifests: ReadonlyMap<HourId, HourManifest | Error>,
  units: Readonly<Record<HourId, string>>,
  maxRecords: number,
  maxBytes: number,
): PlannedBatch[] {
  const size = (h: HourId): { records: number; bytes: number } => {
    const objects = raw.get(h) ?? [];
    const bytes = objects.reduce((n, o) => n + o.size, 0);
    const m = manifests.get(h);
    return { records: m && !(m instanceof Error) ? m.records : estimateRecords(objects), bytes };
  };
  const byUnit = new Map<string, HourId[]>();
  for (const h of [...hours].sort()) byUnit.set(units[h] as string, [...(byUnit.get(units[h] as string) ?? []), h]);
  const out: PlannedBatch[] = [];
  let current = { hours: [] as HourId[], records: 0, bytes: 0 };
  const close = (): void => {
    if (current.hours.length > 0) out.push({ hours: current.hours, records: current.records });
    current = { hours: [], records: 0, bytes: 0 };
  };
  const fits = (records: number, bytes: number): boolean => current.records + records <= maxRecords && current.bytes + bytes <= maxBytes;
  for (const unitHours of byUnit.values()) {
    const sizes = unitHours.map(size);
    const unitRecords = sizes.reduce((n, s) => n + s.records, 0);
    const unitBytes = sizes.reduce((n, s) => n + s.bytes, 0);
    if (!fits(unitRecords, unitBytes) && unitRecords <= maxRecords && unitBytes <= maxBytes) close();
    for (const [i, h] of unitHours.entries()) {
      const s = sizes[i] as { records: number; bytes: number };
      if (!fits(s.records, s.bytes)) close();
      current.hours.push(h);
      current.records += s.records;
      current.bytes += s.bytes;
    }
  }
  close();
  return out;
}

/**
 * The engine batches a run starting at `startedAt` makes of these hours, without running them
 * (`emr run` puts them on a cluster; the ETL run that collects the results plans the same ones).
 * Hours whose raw objects do not match their manifest are left out, as a run refuses them.
 */
export async function planHourBatches(
  store: ObjectStore,
  hours: readonly HourId[],
  options: { startedAt: Date; graceMs?: number; batchRecords?: number; batchBytes?: number },
): Promise<EngineBatch[]> {
  const raw = await listRawInputs(store, hours);
  const manifests = await readRawManifests(store, hours);
  const runnable = [...new Set(hours)].sort().filter((h) => !manifestMismatch(h, raw.get(h) ?? [], manifests.get(h)));
  const units = Object.fromEntries(runnable.map((h) => [h, unitOf(h, options.startedAt.getTime(), options.graceMs ?? 5 * 60_000).unit]));
  return planBatches(runnable, raw, manifests, units, options.batchRecords ?? BATCH_RECORDS, options.batchBytes ?? BATCH_BYTES).map((b, index) => ({
    index,
    hours: b.hours,
    inputs: b.hours.flatMap((h) => raw.get(h) ?? []),
    units: Object.fromEntries(b.hours.map((h) => [h, units[h] as string])),
    processedAt: options.startedAt,
  }));
}

/** Records of raw objects without a manifest: from deterministic names (<writer>-<first>-<last>.*), else about 1 per 600 stored bytes. */
function estimateRecords(objects: readonly RawInput[]): number {
  return objects.reduce((n, o) => {
    const m = /-(\d+)-(\d+)\.[^/]*$/.exec(o.key);
    return n + (m ? Number(m[2]) - Number(m[1]) + 1 : Math.ceil(o.size / 600));
  }, 0);
}

// ---- interrupted runs ---------------------------------------------------------------------------

const RUN_JOURNAL = `${ETL_STATE}/run.json`;

interface Journal {
  key: string;
  engine: EngineName;
  startedAt: string;
  finishedAt?: string;
}

/**
 * Notes which selection a run covers, so that running it again after a kill resumes it: the hours
 * it finished (state done since it started) are kept. Pending runs need no journal (finished hours
 * are no longer pending).
 */
async function openJournal(
  store: ObjectStore,
  select: HourSelection,
  engine: EngineName,
  startedAt: Date,
  restart: boolean,
): Promise<{ resumeFrom: string | undefined; finish: () => Promise<void> }> {
  if ('pending' in select) return { resumeFrom: undefined, finish: async () => undefined };
  const key = 'all' in select ? 'all' : `hours:${createHash('sha256').update([...new Set(select.hours)].sort().join(',')).digest('hex').slice(0, 16)}`;
  const previous = await getJson<Journal>(store, RUN_JOURNAL).catch(() => undefined);
  const resumeFrom = !restart && previous && !previous.finishedAt && previous.key === key && previous.engine === engine ? previous.startedAt : undefined;
  const journal: Journal = { key, engine, startedAt: resumeFrom ?? startedAt.toISOString() };
  await putJson(store, RUN_JOURNAL, journal);
  return { resumeFrom, finish: () => putJson(store, RUN_JOURNAL, { ...journal, finishedAt: new Date().toISOString() }) };
}

// ---- scratch folders ----------------------------------------------------------------------------

const SCRATCH_PREFIX = '.etl-';

/** A folder for engine output before it is published: inside a local lake (publishing is then a rename), else in the temp folder. */
async function scratchDir(store: ObjectStore): Promise<string> {
  const name = `${SCRATCH_PREFIX}${os.hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const dir = store.localPath(name) ?? path.join(os.tmpdir(), `openevents${name}`);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

/** Removes scratch folders of ETL runs on this machine that are no longer running (killed). */
async function removeStaleScratch(store: ObjectStore): Promise<void> {
  const lakeRoot = store.localPath('.');
  for (const [dir, prefix] of [
    [lakeRoot, SCRATCH_PREFIX],
    [os.tmpdir(), `openevents${SCRATCH_PREFIX}`],
  ] as Array<[string | undefined, string]>) {
    if (!dir) continue;
    for (const entry of await fs.readdir(dir).catch(() => [] as string[])) {
      if (!entry.startsWith(`${prefix}${os.hostname()}-`)) continue;
      const pid = Number(entry.slice(`${prefix}${os.hostname()}-`.length).split('-')[0]);
      if (Number.isInteger(pid) && !isAlive(pid)) await fs.rm(path.join(dir, entry), { recursive: true, force: true });
    }
  }
}
