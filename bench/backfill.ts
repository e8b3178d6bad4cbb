/**
 * Backfill benchmark (npm run bench:backfill), issue 16. Side by side in one run:
 *
 * 1. Sparse vs packed: the fixtures' real records, repeated with new ids to 10,000+, spread over
 *    ~3,800 sparse hours (2–3 records each, like an archive imported by mtime) vs packed in one
 *    hour: `etl --all` time of each, interleaved, median of BENCH_RUNS; target sparse ≤ 3× packed.
 *    Also the sparse lake's curated files and bytes.
 * 2. A year of hours (8,760, generated, ~100 events each), as a live lake sees it at the end of
 *    the year's last hour (11 closed months, 30 closed days, the open day): DuckDB backfill time,
 *    curated file count, curated bytes / raw bytes (target ≤ 1.5), `query` latency — the first
 *    after the backfill (the snapshot from nothing), the first after an hourly run (the snapshot
 *    brought up to date: target < 1 s), warm (target < 100 ms) — and the ETL cost of the newest
 *    hour with a year of history vs with one day (flat: ratio ≈ 1).
 * 3. With BENCH_SPARK=1, the Spark engine on the year too (it takes long on a small machine).
 *
 * ETL runs here leave the snapshot alone (refreshSnapshot: false), so the query figures include
 * bringing it up to date — what `etl` on a local lake otherwise does at the end of its run.
 *
 * Environment: BENCH_DIR (default: the OS temp folder; generated raw lakes are kept and reused),
 * BENCH_RUNS (3), BENCH_SPARSE_RECORDS (10000), BENCH_SPARSE_HOURS (3800), BENCH_YEAR_HOURS (8760),
 * BENCH_EVENTS_PER_HOUR (100), BENCH_SPARK (0).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { openCurated } from '../src/etl/curated.ts';
import { runEtl, type EtlResult } from '../src/etl/run.ts';
import { readTableManifest } from '../src/etl/segments.ts';
import { TOP_SQL } from '../src/etl/stats.ts';
import { hourIdOf, rawObjectKey, type HourId } from '../src/lake/layout.ts';
import { LocalStore } from '../src/lake/local-store.ts';
import { createGenerator } from '../src/source/generator.ts';
import { repeatedRealRecords, sparseHours } from '../test/helpers/etl-lake.ts';

const BASE = process.env.BENCH_DIR ?? path.join(os.tmpdir(), 'openevents-bench-backfill');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SPARSE_RECORDS = Number(process.env.BENCH_SPARSE_RECORDS ?? 10_000);
const SPARSE_HOURS = Number(process.env.BENCH_SPARSE_HOURS ?? 3_800);
const YEAR_HOURS = Number(process.env.BENCH_YEAR_HOURS ?? 8_760);
const PER_HOUR = Number(process.env.BENCH_EVENTS_PER_HOUR ?? 100);
const SPARK = process.env.BENCH_SPARK === '1';
const YEAR_START = Date.UTC(2025, 0, 1);
// The clock of the year's lake: half an hour into its last hour, so the last day is still open.
const YEAR_NOW = new Date(YEAR_START + YEAR_HOURS * 3_600_000 - 30 * 60_000);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const fmt = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
const n = (x: number): string => x.toLocaleString('en-US');

/** Writes a raw lake once (kept under BASE/<name> with a .done marker); returns its folder. */
async function rawLake(name: string, write: (store: LocalStore) => Promise<void>): Promise<string> {
  const dir = path.join(BASE, name);
  if (await fs.stat(path.join(dir, '.done')).catch(() => undefined)) return dir;
  await fs.rm(dir, { recursive: true, force: true });
  const t0 = performance.now();
  await write(new LocalStore(dir));
  await fs.writeFile(path.join(dir, '.done'), '');
  console.log(`  generated ${name} in ${fmt(performance.now() - t0)}`);
  return dir;
}

/** A lake whose raw/ is `raw`'s (symlinked) and whose curated tables and state start empty. */
async function freshLake(name: string, raw: string): Promise<LocalStore> {
  const dir = path.join(BASE, name);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  await fs.symlink(path.join(raw, 'raw'), path.join(dir, 'raw'));
  return new LocalStore(dir);
}

/** Bytes and count of files under a folder. */
async function du(dir: string, filter: (name: string) => boolean = () => true): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (!e.isFile() || !filter(e.name)) continue;
    bytes += (await fs.stat(path.join(e.parentPath, e.name))).size;
    files++;
  }
  return { bytes, files };
}

/** Live curated files (the manifest's) and their bytes. */
async function curated(store: LocalStore): Promise<{ files: number; bytes: number; segments: number }> {
  const m = await readTableManifest(store);
  const files = (m?.segments ?? []).flatMap((s) => Object.values(s.files));
  return { files: files.length, bytes: files.reduce((a, f) => a + f.bytes, 0), segments: m?.segments.length ?? 0 };
}

/** openCurated + the top-10 categories query, as one `query` call does; ms. */
async function queryOnce(store: LocalStore): Promise<number> {
  const t = performance.now();
  const db = await openCurated(store);
  try {
    await db.runAndReadAll(TOP_SQL.categories);
  } finally {
    db.closeSync();
  }
  return performance.now() - t;
}

const check = (r: EtlResult, what: string): EtlResult => {
  if (r.failed.length > 0) throw new Error(`${what}: ${r.failed.length} hour(s) failed: ${r.states.find((s) => s.error)?.error}`);
  return r;
};

await fs.mkdir(BASE, { recursive: true });
console.log(`bench:backfill — ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);

// ---- 1. sparse vs packed --------------------------------------------------------------------
const records = repeatedRealRecords(SPARSE_RECORDS);
const hours = sparseHours('2015-01-01T00', SPARSE_HOURS, 2);
const sparseRaw = await rawLake(`sparse-${SPARSE_RECORDS}-${SPARSE_HOURS}`, async (store) => {
  const byHour = new Map<HourId, string[]>();
  records.forEach((r, i) => byHour.set(hours[i % hours.length] as HourId, [...(byHour.get(hours[i % hours.length] as HourId) ?? []), r]));
  for (const [hour, lines] of byHour) await store.put(rawObjectKey(hour, 'imp', 1, lines.length), gzipSync(lines.join('\n') + '\n'));
});
const packedRaw = await rawLake(`packed-${SPARSE_RECORDS}`, async (store) => {
  await store.put(rawObjectKey('2015-01-01T00', 'imp', 1, records.length), gzipSync(records.join('\n') + '\n'));
});
const rawSparse = await du(path.join(sparseRaw, 'raw'), (f) => !f.startsWith('_'));
console.log(`1. ${n(records.length)} real records: sparse over ${n(SPARSE_HOURS)} hours (${mb(rawSparse.bytes)} gzip) vs packed in one hour`);
const sparseMs: number[] = [];
const packedMs: number[] = [];
let sparseRun: EtlResult | undefined;
let sparseStore: LocalStore | undefined;
for (let i = 0; i < RUNS; i++) {
  sparseStore = await freshLake('lake-sparse', sparseRaw);
  sparseRun = check(await runEtl(sparseStore, { select: { all: true }, refreshSnapshot: false }), 'sparse');
  sparseMs.push(sparseRun.durationMs);
  const packed = check(await runEtl(await freshLake('lake-packed', packedRaw), { select: { all: true }, refreshSnapshot: false }), 'packed');
  packedMs.push(packed.durationMs);
  console.log(`  run ${i + 1}: sparse ${fmt(sparseRun.durationMs)} (${sparseRun.batches} batches), packed ${fmt(packed.durationMs)}`);
}
const sparseFiles = await curated(sparseStore as LocalStore);
const sparseFirstQuery = await queryOnce(sparseStore as LocalStore);
const sparseLater: number[] = [];
for (let i = 0; i < 5; i++) sparseLater.push(await queryOnce(sparseStore as LocalStore));
const sparseWarm = median(sparseLater);

// ---- 2. a year of hours ---------------------------------------------------------------------
console.log(`2. a year: ${n(YEAR_HOURS)} hours × ${PER_HOUR} generated events`);
const yearRaw = await rawLake(`year-${YEAR_HOURS}-${PER_HOUR}`, async (store) => {
  let hour: HourId | undefined;
  let lines: string[] = [];
  let first = 1;
  const flush = async (): Promise<void> => {
    if (!hour || lines.length === 0) return;
    await store.put(rawObjectKey(hour, 'gen', first, first + lines.length - 1), gzipSync(lines.join('\n') + '\n', { level: 1 }));
    first += lines.length;
    lines = [];
  };
  let k = 0;
  const total = YEAR_HOURS * PER_HOUR;
  for (const r of createGenerator({ seed: 16, count: total, startMs: YEAR_START, spanMs: YEAR_HOURS * 3_600_000 - 1 })) {
    const h = hourIdOf(YEAR_START + Math.floor(k / PER_HOUR) * 3_600_000);
    if (h !== hour) {
      await flush();
      hour = h;
    }
    lines.push(r.line);
    k++;
  }
  await flush();
});
const rawYear = await du(path.join(yearRaw, 'raw'), (f) => !f.startsWith('_'));
const yearStore = await freshLake('lake-year-duckdb', yearRaw);
let t0 = performance.now();
const year = check(
  await runEtl(yearStore, {
    select: { all: true },
    now: () => YEAR_NOW,
    refreshSnapshot: false,
    onProgress: (p) => process.stdout.write(`\r  duckdb: ${n(p.hoursDone)}/${n(p.hoursTotal)} hours, batch ${p.batchesDone}/${p.batchesTotal}, ${p.phase}   `),
  }),
  'year',
);
process.stdout.write('\n');
const yearMs = performance.now() - t0;
const yearFiles = await curated(yearStore);
const yearDir = await du(path.join(yearStore.root, 'curated'), (f) => f.endsWith('.parquet'));
const firstAfterBackfill = await queryOnce(yearStore);

// The newest hour: rerun on the year lake vs on a lake holding only the last day, interleaved;
// after each rerun on the year, the first query (the snapshot brought up to date) and warm ones.
const newest = hourIdOf(YEAR_START + (YEAR_HOURS - 1) * 3_600_000);
const dayRaw = path.join(BASE, 'lake-day-raw');
await fs.rm(dayRaw, { recursive: true, force: true });
for (let i = 0; i < 24; i++) {
  const h = hourIdOf(YEAR_START + (YEAR_HOURS - 24 + i) * 3_600_000);
  const rel = path.join('raw', h.slice(0, 4), h.slice(5, 7), h.slice(8, 10), h.slice(11, 13));
  await fs.mkdir(path.dirname(path.join(dayRaw, rel)), { recursive: true });
  await fs.symlink(path.join(yearRaw, rel), path.join(dayRaw, rel));
}
const dayStore = await freshLake('lake-day', dayRaw);
check(await runEtl(dayStore, { select: { all: true }, now: () => YEAR_NOW, refreshSnapshot: false }), 'day');
const newestYear: number[] = [];
const newestDay: number[] = [];
const firstAfterHour: number[] = [];
const warm: number[] = [];
// The year's clock is fixed (YEAR_NOW), so run times are taken here.
const timed = async (store: LocalStore): Promise<number> => {
  const t = performance.now();
  check(await runEtl(store, { select: { hours: [newest] }, now: () => YEAR_NOW, refreshSnapshot: false }), 'newest');
  return performance.now() - t;
};
for (let i = 0; i < 5; i++) {
  newestYear.push(await timed(yearStore));
  firstAfterHour.push(await queryOnce(yearStore));
  for (let j = 0; j < 4; j++) warm.push(await queryOnce(yearStore));
  newestDay.push(await timed(dayStore));
}

// ---- 3. Spark on the year ---------------------------------------------------------------------
let spark: { ms: number; run: EtlResult; files: number } | undefined;
if (SPARK) {
  const sparkStore = await freshLake('lake-year-spark', yearRaw);
  t0 = performance.now();
  const run = check(await runEtl(sparkStore, { select: { all: true }, engine: 'spark', now: () => YEAR_NOW, refreshSnapshot: false }), 'spark year');
  spark = { ms: performance.now() - t0, run, files: (await curated(sparkStore)).files };
}

const rss = process.resourceUsage().maxRSS / 1024;
const ratio = median(sparseMs) / median(packedMs);
console.log('');
console.log(`sparse vs packed (${n(records.length)} real records, duckdb, median of ${RUNS}):`);
console.log(`  sparse over ${n(SPARSE_HOURS)} hours: ${fmt(median(sparseMs))} in ${sparseRun?.batches} batch(es); packed in one hour: ${fmt(median(packedMs))}: ratio ${ratio.toFixed(2)}× (target ≤ 3×; was 233×)`);
console.log(`  sparse curated: ${n(sparseFiles.files)} files in ${sparseFiles.segments} segments, ${mb(sparseFiles.bytes)} for ${mb(rawSparse.bytes)} of gzip raw (was 22,866 files, 204 MB for 49 MB)`);
console.log(`  query after the sparse backfill: first ${fmt(sparseFirstQuery)}, then ${fmt(sparseWarm)} (was 3.2–3.5 s every time)`);
console.log(`a year (${n(YEAR_HOURS)} hours, ${n(YEAR_HOURS * PER_HOUR)} events, ${mb(rawYear.bytes)} gzip raw):`);
console.log(`  duckdb backfill: ${fmt(yearMs)} (${n(Math.round((YEAR_HOURS * PER_HOUR) / (yearMs / 1000)))} events/s), ${year.batches} batches, ${year.compactions.length} compactions`);
console.log(`  curated: ${n(yearFiles.files)} files in ${yearFiles.segments} segments (${yearDir.files} Parquet files in the folders, retired ones included); ${mb(yearFiles.bytes)}: curated/raw ${(yearFiles.bytes / rawYear.bytes).toFixed(2)} (target ≤ 1.5)`);
console.log(`  query (top-10 categories, open included): first after the backfill ${fmt(firstAfterBackfill)} (snapshot from nothing); first after an hourly run ${fmt(median(firstAfterHour))} (target < 1 s); warm ${fmt(median(warm))} (target < 100 ms)`);
console.log(`  newest hour ETL (${PER_HOUR} events), median of 5: with a year of history ${fmt(median(newestYear))}, with one day ${fmt(median(newestDay))}: ${(median(newestYear) / median(newestDay)).toFixed(2)}× (flat)`);
if (spark) {
  console.log(`  spark backfill: ${fmt(spark.ms)} (${spark.run.batches} batches, ${n(spark.files)} files): duckdb is ${(spark.ms / yearMs).toFixed(1)}× faster`);
} else {
  console.log('  spark backfill: skipped (BENCH_SPARK=1 runs it; long on a small machine)');
}
console.log(`peak RSS (this process, DuckDB in-process): ${rss.toFixed(0)} MB`);
