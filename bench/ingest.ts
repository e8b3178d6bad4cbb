/**
 * Ingest benchmark (`npm run bench:ingest`): 200,000 generated events of real size through
 * HTTP → streamer → gzip raw lake, against `curl -sN URL | gzip -1 > file` on the same stream,
 * and the same streamer under issue 15's hostile network — through a proxy process that cuts every
 * connection after 4–10 MB wherever that falls (what the source had sent beyond the cut, in socket
 * buffers, is lost), and against the source's own `cut:4M-10M` faults — target: at least 80 % of
 * the clean throughput. Under cuts it also counts what the lake holds (events lost, events stored
 * twice, read back with zlib and JSON.parse apart from the streamer) and what the catch-ups cost
 * (reconnects, records downloaded again, bytes received per byte of the stream) and the
 * streamer's own CPU time against its clean run's: the source and the proxy run on the same
 * cores, so under cuts the extra bytes they serve and forward take CPU from the streamer that a
 * real network would not — the throughput share counts both, the CPU ratio only the streamer;
 * and a run through the same proxy that never cuts shows what its forwarding alone costs.
 *
 * The events are generated once (the source generator, fixed seed) and served by the real
 * source server from memory, a fresh server per run so each client reads the whole stream from
 * the start. The streamer runs as its own process (`openevents stream --max-events N`), as in
 * production; its peak RSS is its VmHWM from /proc. curl's run ends after the stream's exact
 * byte count (`head -c`), since a live stream never ends by itself. Each run is the clean run, the
 * proxy-cut run right after it (with curl|gzip's run between them the cut run measured ~4 points
 * lower), then curl|gzip, the uncut proxy and the source's cuts. Prints each run and the medians of
 * RUNS runs.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createGenerator } from '../src/source/generator.ts';
import { replayFeed, type CaptureRecord } from '../src/source/replay.ts';
import { startSourceServer } from '../src/source/server.ts';
import { watchProcess } from '../test/helpers/proc.ts';
import { startCutProxy } from '../test/stream/with-cut-proxy.ts';

const COUNT = Number(process.env.BENCH_INGEST_COUNT ?? 200_000);
/**
 * `--cuts-only`: each run is a clean run and the proxy-cut run right after it, nothing else — the
 * paired runs to compare resume policies by (the full bench's medians move ±3 points with the hour
 * on a shared 2-core machine; a pair shares its hour).
 */
const CUTS_ONLY = process.argv.includes('--cuts-only');
const RUNS = Number(process.env.BENCH_INGEST_RUNS ?? 3);
const ROOT = path.resolve(import.meta.dirname, '..');


interface Run {
  seconds: number;
  wallSeconds?: number;
  peakRssMb?: number;
  /** The streamer's own CPU time (user + system, all its threads), seconds. */
  cpuSeconds?: number;
  outBytes: number;
  /** Under cuts: connections, records downloaded again (duplicates and set-aside catch-up), bytes received. */
  reconnects?: number;
  again?: number;
  bytesIn?: number;
  /** Under cuts: events missing from the lake, and events stored more than once. */
  lost?: number;
  twice?: number;
}

/**
 * How the stream is cut: by a proxy process in front of the source, or by the source itself; or,
 * `proxy-uncut`, the same proxy that never cuts — what its forwarding alone costs on these cores.
 */
type Cuts = { by: 'proxy' | 'source' | 'proxy-uncut'; seed: number };

const MB = 1024 * 1024;

const records: CaptureRecord[] = [];
let streamBytes = 0;
const pairs = new Set<string>();
for (const r of createGenerator({ seed: 42, count: COUNT })) {
  const bytes = Buffer.from(r.line);
  records.push({ bytes, id: r.id, mtime: r.mtime });
  streamBytes += bytes.length + 1;
  pairs.add(`${r.id}\u0000${r.mtime}`);
}
const mb = streamBytes / 1e6;
process.stdout.write(
  `ingest bench: ${COUNT.toLocaleString('en-US')} events (${pairs.size.toLocaleString('en-US')} distinct), ` +
    `${mb.toFixed(1)} MB, ${Math.round(streamBytes / COUNT)} B/event; ${RUNS} runs each; ${os.cpus().length} CPUs\n`,
);

async function serve(cuts?: Cuts): Promise<{ url: string; close: () => Promise<void> }> {
  const server = await startSourceServer({ feed: replayFeed(records), ...(cuts?.by === 'source' ? { faults: 'cut:4M-10M', seed: cuts.seed } : {}) });
  return { url: server.url, close: () => server.close() };
}

function exited(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Every event of the stream in the lake's raw files exactly once? Counts the missing and the doubled. */
async function audit(lake: string): Promise<{ lost: number; twice: number }> {
  const seen = new Set<string>();
  let twice = 0;
  for (const f of await listFiles(path.join(lake, 'raw'))) {
    if (!f.endsWith('.gz')) continue;
    for (const line of gunzipSync(await readFile(f)).toString('utf8').split('\n')) {
      if (line === '') continue;
      const { id, mtime } = JSON.parse(line) as { id: string; mtime: number };
      const key = `${id}\u0000${mtime}`;
      if (seen.has(key)) twice++;
      else seen.add(key);
    }
  }
  let lost = 0;
  for (const p of pairs) if (!seen.has(p)) lost++;
  return { lost, twice };
}

async function runStreamer(cuts?: Cuts): Promise<Run> {
  const server = await serve(cuts);
  const proxy =
    cuts?.by === 'proxy'
      ? await startCutProxy(server.url, 4 * MB, 10 * MB, cuts.seed)
      : cuts?.by === 'proxy-uncut'
        ? await startCutProxy(server.url, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, cuts.seed)
        : undefined;
  const lake = await mkdtemp(path.join(os.tmpdir(), 'oe-bench-lake-'));
  try {
    const started = process.hrtime.bigint();
    const url = proxy?.url ?? server.url;
    const args = ['stream', '--url', url, '--lake', lake, '--max-events', String(pairs.size), '--json', ...(process.env.BENCH_VERBOSE ? [] : ['-q'])];
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/openevents.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const watch = watchProcess(child.pid!);
    const code = await exited(child);
    if (process.env.BENCH_VERBOSE) process.stderr.write(`streamer exited ${code}\n`);
    const { peakRssMb: peak, cpuSeconds } = watch.stop();
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (code !== 0) throw new Error(`streamer exited with ${code}`);
    const summary = JSON.parse(out) as { durable: number; elapsedMs: number; bytes: number; reconnects: number; duplicates: number; setAside: number };
    if (summary.durable !== pairs.size) throw new Error(`streamer stored ${summary.durable} events, expected ${pairs.size}`);
    let outBytes = 0;
    for (const f of await listFiles(path.join(lake, 'raw'))) outBytes += (await stat(f)).size;
    const run: Run = { seconds: summary.elapsedMs / 1000, wallSeconds, peakRssMb: peak, cpuSeconds, outBytes, reconnects: summary.reconnects, again: summary.duplicates + summary.setAside, bytesIn: summary.bytes };
    // Only runs that were cut are read back (the uncut proxy run is there for its time alone).
    return cuts && cuts.by !== 'proxy-uncut' ? { ...run, ...(await audit(lake)) } : run;
  } finally {
    await proxy?.stop();
    await server.close();
    if (process.env.BENCH_VERBOSE) process.stderr.write(`server closed\n`);
    await rm(lake, { recursive: true, force: true });
  }
}

async function runCurlGzip(): Promise<Run> {
  const server = await serve();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oe-bench-curl-'));
  const file = path.join(dir, 'stream.ndjson.gz');
  try {
    // curl → head -c <stream bytes> → gzip -1 > file, wired by the OS (no copy through this
    // process); the stream stays open when the feed is exhausted, so curl is stopped once gzip is done.
    const out = await open(file, 'w');
    const started = process.hrtime.bigint();
    const curl = spawn('curl', ['-sN', server.url], { stdio: ['ignore', 'pipe', 'inherit'] });
    const gzip = spawn('sh', ['-c', `head -c ${streamBytes} | gzip -1`], { stdio: [curl.stdout!, out.fd, 'inherit'] });
    const code = await exited(gzip);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    curl.kill();
    await out.close();
    if (code !== 0) throw new Error(`head | gzip exited with ${code}`);
    return { seconds, outBytes: (await stat(file)).size };
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(full)));
    else out.push(full);
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

const streamerRuns: Run[] = [];
const curlRuns: Run[] = [];
const proxyRuns: Run[] = [];
const uncutRuns: Run[] = [];
const sourceRuns: Run[] = [];
/** One line on a run under cuts, against the clean run it is paired with. */
const cutLine = (k: Run, clean: Run): string =>
  `${fmt(COUNT / k.seconds)} events/s, ${((100 * clean.seconds) / k.seconds).toFixed(0)} % of clean; ${k.lost} lost, ${k.twice} twice; ` +
  `${k.reconnects} reconnects, ${fmt(k.again!)} records downloaded again, ${(k.bytesIn! / streamBytes).toFixed(2)}× the stream's bytes received; ` +
  `streamer CPU ${k.cpuSeconds!.toFixed(1)} s, ${(k.cpuSeconds! / clean.cpuSeconds!).toFixed(2)}× clean's`;
for (let i = 1; i <= RUNS; i++) {
  // The cut run right after the clean run it is measured against (the machine's hour moves both).
  const s = await runStreamer();
  streamerRuns.push(s);
  const p = await runStreamer({ by: 'proxy', seed: i });
  proxyRuns.push(p);
  if (CUTS_ONLY) {
    process.stdout.write(`run ${i}: clean ${fmt(COUNT / s.seconds)} events/s; cut by a proxy every 4–10 MB: ${cutLine(p, s)}\n`);
    continue;
  }
  const c = await runCurlGzip();
  curlRuns.push(c);
  const u = await runStreamer({ by: 'proxy-uncut', seed: i });
  uncutRuns.push(u);
  const k = await runStreamer({ by: 'source', seed: i });
  sourceRuns.push(k);
  process.stdout.write(
    `run ${i}: streamer ${fmt(COUNT / s.seconds)} events/s (${(mb / s.seconds).toFixed(1)} MB/s; ${s.seconds.toFixed(2)} s streaming, ` +
      `${s.wallSeconds!.toFixed(2)} s with process start), CPU ${s.cpuSeconds!.toFixed(1)} s, peak RSS ${s.peakRssMb!.toFixed(0)} MB, ${(s.outBytes / 1e6).toFixed(1)} MB gz | ` +
      `curl|gzip ${fmt(COUNT / c.seconds)} events/s (${c.seconds.toFixed(2)} s), ${(c.outBytes / 1e6).toFixed(1)} MB gz; ratio ${(c.seconds / s.seconds).toFixed(2)}×\n` +
      `  cut by a proxy every 4–10 MB: ${cutLine(p, s)}, peak RSS ${p.peakRssMb!.toFixed(0)} MB\n` +
      `  through the same proxy, never cut: ${fmt(COUNT / u.seconds)} events/s, ${((100 * s.seconds) / u.seconds).toFixed(0)} % of clean; ` +
      `the cut run ${((100 * u.seconds) / p.seconds).toFixed(0)} % of it\n` +
      `  cut by the source (cut:4M-10M): ${cutLine(k, s)}\n`,
  );
}
/** Medians of the runs under cuts; the share of the clean throughput is taken per run (clean and cut runs alternate). */
function cutMedians(runs: Run[]): { eps: number; share: number; text: string } {
  const share = median(streamerRuns.map((r, i) => r.seconds / runs[i]!.seconds));
  // What the cuts cost the streamer itself, apart from what the source and the proxy, on the same
  // cores, cost the machine: its CPU time against its clean run's (machine-independent).
  const cpu = median(streamerRuns.map((r, i) => runs[i]!.cpuSeconds! / r.cpuSeconds!));
  const eps = COUNT / median(runs.map((r) => r.seconds));
  const text =
    `${fmt(eps)} events/s, ${(100 * share).toFixed(0)} % of clean (median of per-run shares); ` +
    `lost ${Math.max(...runs.map((r) => r.lost!))}, stored twice ${Math.max(...runs.map((r) => r.twice!))} (worst run); ` +
    `${fmt(median(runs.map((r) => r.reconnects!)))} reconnects, ${fmt(median(runs.map((r) => r.again!)))} records downloaded again ` +
    `(${(median(runs.map((r) => r.again!)) / COUNT).toFixed(2)} per event), ${median(runs.map((r) => r.bytesIn! / streamBytes)).toFixed(2)}× the stream's bytes received; ` +
    `the streamer's own CPU ${cpu.toFixed(2)}× clean's`;
  return { eps, share, text };
}
if (CUTS_ONLY) {
  process.stdout.write(`median: cut by a proxy every 4–10 MB: ${cutMedians(proxyRuns).text}\n`);
} else {
  summary();
}

function summary(): void {
  const sSec = median(streamerRuns.map((r) => r.seconds));
  const cSec = median(curlRuns.map((r) => r.seconds));
  const rss = median(streamerRuns.map((r) => r.peakRssMb!));
  const eps = COUNT / sSec;
  // Each run has a streamer and a curl|gzip pass in the same round, so the ratio is taken per run
  // (both saw about the same machine load) and its median reported.
  const ratio = median(streamerRuns.map((r, i) => curlRuns[i]!.seconds / r.seconds));
  // The same with the streamer's process start (node, module loading) counted against it too.
  const wallRatio = median(streamerRuns.map((r, i) => curlRuns[i]!.seconds / r.wallSeconds!));
  const proxied = cutMedians(proxyRuns);
  // The proxy's own forwarding shares the cores too: the cut runs against the same proxy never cutting.
  const forwarding = median(streamerRuns.map((r, i) => r.seconds / uncutRuns[i]!.seconds));
  const cutOfUncut = median(uncutRuns.map((r, i) => r.seconds / proxyRuns[i]!.seconds));
  const sourced = cutMedians(sourceRuns);
  const intact = [...proxyRuns, ...sourceRuns].every((r) => r.lost === 0 && r.twice === 0);
  process.stdout.write(
    `median: streamer ${fmt(eps)} events/s, ${(mb / sSec).toFixed(1)} MB/s, peak RSS ${rss.toFixed(0)} MB; ` +
      `curl -sN | gzip -1 ${fmt(COUNT / cSec)} events/s; ratio ${ratio.toFixed(2)}× curl|gzip (median of per-run ratios; ` +
      `${wallRatio.toFixed(2)}× counting the streamer's process start)\n` +
      `cut by a proxy every 4–10 MB: ${proxied.text}\n` +
      `through the same proxy, never cut: ${(100 * forwarding).toFixed(0)} % of clean; cut by it, ${(100 * cutOfUncut).toFixed(0)} % of that ` +
      `(what the cuts cost, apart from the proxy's forwarding; the target below is against clean)\n` +
      `cut by the source (cut:4M-10M): ${sourced.text}\n` +
      `targets: ≥25,000 events/s ${eps >= 25_000 ? 'met' : 'MISSED'}; peak RSS < 250 MB ${rss < 250 ? 'met' : 'MISSED'}; ` +
      `≥1.0× curl|gzip ${ratio >= 1 ? 'met' : 'MISSED'}; under cuts ≥80 % of clean ${Math.min(proxied.share, sourced.share) >= 0.8 ? 'met' : 'MISSED'}; ` +
      `nothing lost or doubled under cuts ${intact ? 'met' : 'MISSED'}\n`,
  );
}
