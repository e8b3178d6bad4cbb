/**
 * Freshness benchmark (npm run bench:freshness): how long after an event arrives in the lake its
 * row is answered by `query`, with `openevents schedule` at its shortest interval (10 s) on a
 * lake of 1,000,000 events (target under 60 s; the original system: one to two hours), and the
 * cost of the first query after an ETL run, with a twelfth of the history and with all of it
 * (target under 1 s, and not growing with history).
 *
 * How: 1M generated events of real size over 24 past arrival hours, processed once (DuckDB).
 * Then the real scheduler runs as a process (`schedule --every 10s`) and, BENCH_RUNS times, at
 * a random moment, one raw object with a marked event lands in the current (open) hour as a
 * streamer writes it; the time from its landing to the first `query` (the same service, polled
 * every 200 ms) that returns the marked row is its freshness, split into waiting for the tick,
 * the scheduled ETL job, and the query after it.
 * Environment: BENCH_EVENTS (default 1000000), BENCH_RUNS (5), BENCH_DIR (default: the OS temp
 * folder; the generated raw hours are kept there and reused).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { runEtl } from '../src/etl/run.ts';
import { runQuery } from '../src/etl/query.ts';
import { LocalJobRunner, OPENEVENTS_ARGV } from '../src/jobs/local.ts';
import { LocalStore } from '../src/lake/local-store.ts';
import { hourIdOf, rawObjectKey, STATE, type HourId } from '../src/lake/layout.ts';
import { createGenerator } from '../src/source/generator.ts';
import { build, isStale } from '../scripts/build.mjs';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BASE = process.env.BENCH_DIR ?? path.join(os.tmpdir(), 'openevents-bench-freshness');
const HOURS = 24;
const START = Date.UTC(2026, 0, 1);
const EVERY_S = 10;
const POLL_MS = 200;
const HOUR_MS = 3_600_000;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The generated raw hours, made once and kept in BENCH_DIR. */
async function rawHistory(): Promise<string> {
  const dir = path.join(BASE, `raw-${EVENTS}`);
  if (await fs.stat(path.join(dir, '.done')).catch(() => undefined)) return dir;
  await fs.rm(dir, { recursive: true, force: true });
  const store = new LocalStore(dir);
  const perHour = Math.ceil(EVENTS / HOURS);
  let lines: string[] = [];
  let hour: HourId | undefined;
  let n = 0;
  const flush = async (): Promise<void> => {
    if (hour && lines.length > 0) await store.put(rawObjectKey(hour, 'bench', n - lines.length + 1, n), gzipSync(lines.join('\n') + '\n', { level: 1 }));
    lines = [];
    process.stdout.write(`\r  generating: ${n} events`);
  };
  for (const r of createGenerator({ seed: 7, count: EVENTS, startMs: START, spanMs: HOURS * HOUR_MS - 1 })) {
    // Arrival hours in turn, perHour events each (as a streamer lands them)
    const h = hourIdOf(START + Math.floor(n / perHour) * HOUR_MS);
    if (h !== hour || lines.length >= 20_000) {
      await flush();
      hour = h;
    }
    lines.push(r.line);
    n++;
  }
  await flush();
  process.stdout.write('\n');
  await fs.writeFile(path.join(dir, '.done'), '');
  return dir;
}

/** One raw object in `hour` whose first event has the id `marker`, as a streamer writes it. */
async function land(store: LocalStore, hour: HourId, marker: string, seq: number): Promise<number> {
  const lines: string[] = [];
  for (const r of createGenerator({ seed: seq, count: 50, startMs: Date.now() - 60_000, spanMs: 60_000 })) lines.push(r.line);
  lines[0] = JSON.stringify({ ...(JSON.parse(lines[0] as string) as object), id: marker, mtime: Date.now() });
  await store.put(rawObjectKey(hour, 'fresh', seq * 100 + 1, seq * 100 + lines.length), gzipSync(lines.join('\n') + '\n'));
  return Date.now();
}

const answered = async (store: LocalStore, marker: string): Promise<boolean> =>
  (await runQuery(store, `SELECT count(*) FROM events WHERE event_id = '${marker}'`)).rows[0]?.[0] === 1;

/** The first query after an ETL run of `hour` (median of 3), and a warm one after it. */
async function firstQueryAfterEtl(store: LocalStore, hour: HourId): Promise<{ firstMs: number; warmMs: number }> {
  const first: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < 3; i++) {
    await runEtl(store, { select: { hours: [hour] }, engine: 'duckdb' });
    for (const times of [first, warm]) {
      const t = performance.now();
      await runQuery(store, 'SELECT count(*) FROM events');
      times.push(performance.now() - t);
    }
  }
  return { firstMs: median(first), warmMs: median(warm) };
}

if (isStale()) await build(); // the scheduler's jobs run the compiled toolkit
const raw = await rawHistory();
const dir = path.join(BASE, 'lake');
await fs.rm(dir, { recursive: true, force: true });
await fs.cp(path.join(raw, 'raw'), path.join(dir, 'raw'), { recursive: true });
const store = new LocalStore(dir);
const hours = Array.from({ length: HOURS }, (_, i) => hourIdOf(START + i * HOUR_MS));

// History: a twelfth first (to see whether the first query grows with it), then the rest.
let t0 = performance.now();
await runEtl(store, { select: { hours: hours.slice(0, 2) }, engine: 'duckdb' });
const small = await firstQueryAfterEtl(store, hours[1] as HourId);
await runEtl(store, { select: { hours: hours.slice(2) }, engine: 'duckdb' });
const backfillMs = performance.now() - t0;
const full = await firstQueryAfterEtl(store, hours.at(-1) as HourId);
console.log(`history: ${EVENTS} events in ${HOURS} hours, processed in ${secs(backfillMs)} (with the first-query runs)`);

// The scheduler at its shortest interval, as a process, its ETL runs as jobs.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OPENEVENTS_')));
const [node, cli] = OPENEVENTS_ARGV as [string, string];
const scheduler = spawn(node, [cli, 'schedule', '--every', `${EVERY_S}s`, '--lake', dir, '--json'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
const runner = new LocalJobRunner({ dir: path.join(dir, STATE, 'jobs'), cwd: dir });
const samples: Array<{ totalMs: number; waitMs: number; etlMs: number; queryMs: number }> = [];
try {
  await sleep(2 * EVERY_S * 1000); // its first tick (nothing to do) is behind it
  for (let i = 0; i < RUNS; i++) {
    await sleep(Math.random() * EVERY_S * 1000);
    const marker = `fresh-${randomUUID()}`;
    const arrived = await land(store, hourIdOf(Date.now()), marker, i + 1);
    while (!(await answered(store, marker))) {
      if (Date.now() - arrived > 10 * 60_000) throw new Error(`${marker} not answered in 10 min`);
      await sleep(POLL_MS);
    }
    const done = Date.now();
    // The scheduled job that processed it: the first one created after the landing.
    const job = (await runner.list(20)).filter((j) => j.kind === 'schedule' && Date.parse(j.createdAt) >= arrived).at(-1);
    const created = job ? Date.parse(job.createdAt) : done;
    const ended = job?.endedAt ? Date.parse(job.endedAt) : done;
    samples.push({ totalMs: done - arrived, waitMs: created - arrived, etlMs: ended - created, queryMs: done - ended });
    console.log(`  run ${i + 1}: answered ${secs(done - arrived)} after landing (tick wait ${secs(created - arrived)}, ETL job ${secs(ended - created)}, query ${secs(done - ended)})`);
  }
} finally {
  scheduler.kill('SIGTERM');
  await new Promise((resolve) => scheduler.once('exit', resolve));
}

const m = (key: keyof (typeof samples)[number]): string => secs(median(samples.map((s) => s[key])));
console.log('');
console.log(`freshness (event landed → row answered by query), schedule --every ${EVERY_S}s on ${EVENTS} events, median of ${samples.length}: ${m('totalMs')} (target < 60 s; the original system: 1-2 h)`);
console.log(`  of which: waiting for the tick ${m('waitMs')}, the scheduled ETL job ${m('etlMs')}, the query after it ${m('queryMs')}`);
console.log(`first query after an ETL run, median of 3: ${secs(small.firstMs)} with ${Math.round(EVENTS / 12)} events of history, ${secs(full.firstMs)} with ${EVENTS}: ${(full.firstMs / small.firstMs).toFixed(2)}× (target < 1 s, not growing); warm: ${small.warmMs.toFixed(0)} ms / ${full.warmMs.toFixed(0)} ms`);
