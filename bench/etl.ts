/**
 * ETL benchmark (npm run bench:etl): 1,000,000 generated events of real size over 24 arrival
 * hours, backfilled in batches on DuckDB and on Spark local[*].
 * Prints: per-hour ETL time of the first and last hour rerun with the history in place (target:
 * last ≤ 1.3× first), full backfill time on DuckDB and on Spark with their ratio (target: DuckDB
 * ≥ 5× faster), the median latency of the top-10-categories query over the curated tables
 * (target < 100 ms warm), the snapshot's cost (the first query after an hourly run, and from
 * nothing), and peak RSS (target < 2 GB).
 * Environment: BENCH_EVENTS (default 1000000), BENCH_HOURS (24), BENCH_SPARK=0 to skip Spark,
 * BENCH_DIR (default: the OS temp folder; generated raw hours are kept there and reused).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { curatedCacheDir, openCurated } from '../src/etl/curated.ts';
import { runEtl, type EtlResult } from '../src/etl/run.ts';
import { TOP_SQL } from '../src/etl/stats.ts';
import { LocalStore } from '../src/lake/local-store.ts';
import { hourIdOf, rawObjectKey, type HourId } from '../src/lake/layout.ts';
import { createGenerator } from '../src/source/generator.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const HOURS = Number(process.env.BENCH_HOURS ?? 24);
const SPARK = process.env.BENCH_SPARK !== '0';
const BASE = process.env.BENCH_DIR ?? path.join(os.tmpdir(), 'openevents-bench-etl');
const START = Date.UTC(2026, 0, 1);
const OBJECT_RECORDS = 20_000;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const fmt = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

/** Generates the raw hours once (arrival hour = the hour of the record's mtime, as streamed live). */
async function rawLake(): Promise<{ dir: string; bytes: number; records: number }> {
  const dir = path.join(BASE, `raw-${EVENTS}-${HOURS}`);
  const done = path.join(dir, '.done.json');
  const cached = await fs.readFile(done, 'utf8').catch(() => undefined);
  if (cached) return { dir, ...(JSON.parse(cached) as { bytes: number; records: number }) };
  await fs.rm(dir, { recursive: true, force: true });
  const store = new LocalStore(dir);
  const t0 = performance.now();
  let bytes = 0;
  let records = 0;
  let hour: HourId | undefined;
  let batch: string[] = [];
  let first = 1;
  const flush = async (): Promise<void> => {
    if (!hour || batch.length === 0) return;
    const body = batch.join('\n') + '\n';
    bytes += Buffer.byteLength(body);
    await store.put(rawObjectKey(hour, 'bench', first, first + batch.length - 1), gzipSync(body, { level: 1 }));
    first += batch.length;
    batch = [];
  };
  for (const r of createGenerator({ seed: 42, count: EVENTS, startMs: START, spanMs: HOURS * 3_600_000 - 1 })) {
    // Records re-sent after a reconnect carry older mtimes; they arrive in the current hour.
    const h = hourIdOf(Math.max(START + (records / EVENTS) * HOURS * 3_600_000, 0));
    if (h !== hour || batch.length >= OBJECT_RECORDS) {
      await flush();
      hour = h;
    }
    batch.push(r.line);
    records++;
  }
  await flush();
  await fs.writeFile(done, JSON.stringify({ bytes, records }));
  console.log(`generated ${records} events (${(bytes / 1e9).toFixed(2)} GB uncompressed) in ${fmt(performance.now() - t0)}`);
  return { dir, bytes, records };
}

/** A lake whose raw/ is the generated one (symlinked) and whose curated/ starts empty. */
async function freshLake(name: string, rawDir: string): Promise<string> {
  const dir = path.join(BASE, name);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  await fs.symlink(path.join(rawDir, 'raw'), path.join(dir, 'raw'));
  return dir;
}

const raw = await rawLake();
console.log(`input: ${raw.records} events, ${(raw.bytes / raw.records).toFixed(0)} bytes/event on average, ${HOURS} hours`);

// DuckDB: every hour, in batches (etl --all); the snapshot is left for the measurements below.
const duckDir = await freshLake('lake-duckdb', raw.dir);
const duckStore = new LocalStore(duckDir);
const duck: EtlResult = await runEtl(duckStore, {
  select: { all: true },
  engine: 'duckdb',
  refreshSnapshot: false,
  onProgress: (p) => process.stdout.write(`\r  duckdb: batch ${p.batchesDone}/${p.batchesTotal}, ${p.hoursDone}/${p.hoursTotal} hours, ${p.recordsDone} records   `),
});
process.stdout.write('\n');
if (duck.failed.length) throw new Error(`duckdb failed hours: ${duck.states.find((s) => s.error)?.error}`);
const firstHour = duck.states[0] as (typeof duck.states)[number];
const lastHour = duck.states.at(-1) as (typeof duck.states)[number];

// The current-state snapshot built from nothing (the first query after the backfill).
await fs.rm(curatedCacheDir(duckStore), { recursive: true, force: true });
let t0 = performance.now();
(await openCurated(duckStore)).closeSync();
const fromNothingMs = performance.now() - t0;

// Rerun the first and the last hour with the whole history in place, interleaved so that load
// from other processes falls on both alike (median of 5 each), as the hourly schedule runs a new
// hour (no compaction: the hour's day is open then). After each, the first query brings the
// snapshot up to date with that hour.
const firstTimes: number[] = [];
const lastTimes: number[] = [];
const firstOpen: number[] = [];
for (let i = 0; i < 5; i++) {
  for (const [hour, times] of [[firstHour.hour, firstTimes], [lastHour.hour, lastTimes]] as const) {
    const t = performance.now();
    await runEtl(duckStore, { select: { hours: [hour] }, compact: false, refreshSnapshot: false });
    times.push(performance.now() - t);
    const o = performance.now();
    (await openCurated(duckStore)).closeSync();
    firstOpen.push(performance.now() - o);
  }
}
const firstRerun = median(firstTimes);
const lastRerun = median(lastTimes);

// Query latency over the curated views.
t0 = performance.now();
const db = await openCurated(duckStore);
const reopenMs = performance.now() - t0;
const latencies: number[] = [];
for (let i = 0; i < 22; i++) {
  const t = performance.now();
  await db.runAndReadAll(TOP_SQL.categories);
  if (i >= 2) latencies.push(performance.now() - t);
}
const top = (await db.runAndReadAll(TOP_SQL.categories)).getRowObjectsJson().slice(0, 3);
db.closeSync();

let spark: EtlResult | undefined;
if (SPARK) {
  const sparkDir = await freshLake('lake-spark', raw.dir);
  console.log('  spark backfill running (spark-submit local[*]) ...');
  spark = await runEtl(new LocalStore(sparkDir), { select: { all: true }, engine: 'spark' });
  if (spark.failed.length) console.log(`  spark failed: ${spark.states.find((s) => s.error)?.error}`);
}

const rssMb = process.resourceUsage().maxRSS / 1024;
console.log('');
console.log(`per-hour ETL (duckdb), rerun with full history, interleaved, median of 5: first ${firstHour.hour} ${fmt(firstRerun)}, last ${lastHour.hour} ${fmt(lastRerun)} (${lastHour.rawRecords} records): last/first ${(lastRerun / firstRerun).toFixed(2)}× (target ≤ 1.3×)`);
console.log(`full backfill: duckdb ${fmt(duck.durationMs)} in ${duck.batches} batches (${Math.round(raw.records / (duck.durationMs / 1000))} events/s)`);
if (spark) {
  console.log(`full backfill: spark local[*] ${fmt(spark.durationMs)}${spark.failed.length ? ' (FAILED)' : ''}: duckdb is ${(spark.durationMs / duck.durationMs).toFixed(1)}× faster (target ≥ 5×)`);
}
console.log(`top-10 categories over curated views: median ${fmt(median(latencies))} warm over ${latencies.length} runs (target < 100 ms); top 3: ${JSON.stringify(top)}`);
console.log(`openCurated: the first after an hourly run ${fmt(median(firstOpen))} (median of 10; brings the snapshot up to date with that hour: was 11–20 s, rebuilding it), from nothing ${fmt(fromNothingMs)}, after that ${fmt(reopenMs)}`);
console.log(`peak RSS (this process, DuckDB in-process): ${rssMb.toFixed(0)} MB (target < 2048 MB)`);
