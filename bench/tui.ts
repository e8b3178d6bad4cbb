/**
 * Monitor benchmarks (npm run bench:tui [-- --quick]):
 *   1. render time of a full frame with a 24-hour grid (target: median < 16 ms), in-process; on
 *      the local profile and on the aws profile (Kinesis and lander lines, 3 EMR clusters);
 *   2. CPU of the idle monitor at the default refresh over 60 s (target: < 3% of one core), the
 *      real `openevents monitor` on a real terminal (tmux), from /proc/<pid>/stat; on the local
 *      profile and on the aws profile (24 h of S3 hours and CloudWatch Logs on moto_server,
 *      Kinesis, 3 clusters on the fake EMR endpoint);
 *   3. RSS growth over 5 minutes with the streamer at 1,000 events/s (target: flat within 10%),
 *      the real source server, streamer (started with `s`) and monitor.
 * --quick: 15 s idle, 60 s streaming; --only render|idle|aws|rss runs one part (aws: the aws profile's idle CPU). Medians of several windows are reported.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalJobRunner } from '../src/jobs/local.ts';
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { EMRClient, RunJobFlowCommand } from '@aws-sdk/client-emr';
import { CreateStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { awsClient } from '../src/aws/clients.ts';
import { hourIdOf, hourPath } from '../src/lake/layout.ts';
import { CloudWatchTelemetry } from '../src/telemetry/cloudwatch.ts';
import { startFakeEmr } from '../test/helpers/fake-emr.ts';
import { startMoto } from '../test/helpers/moto.ts';
import { monitorLayout } from '../src/tui/state/layout.ts';
import { initialState, type MonitorState } from '../src/tui/state/monitor-state.ts';
import type { PipelineSnapshot } from '../src/tui/model/types.ts';
import { hourBefore, writeEtlHour, writeRawHour, writeStreamStats, writeTelemetry } from '../test/helpers/tui-lake.ts';
import { createTmux } from '../test/helpers/tui-tmux.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const OPENEVENTS = path.join(ROOT, 'bin/openevents.js');
const quick = process.argv.includes('--quick');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const IDLE_S = quick ? 15 : 60;
const RSS_S = quick ? 60 : 300;
const CLK_TCK = 100; // Linux USER_HZ

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stdout.write(line + '\n');

// ---------------------------------------------------------------- 1. render time

function fullSnapshot(nowMs: number, i: number, aws = false): PipelineSnapshot {
  const hours = Array.from({ length: 24 }, (_, h) => ({
    hour: hourIdOf(nowMs - (23 - h) * 3_600_000),
    files: 10 + h,
    records: 12_000 + h * 37 + i,
    bytes: 3_000_000 + h * 1000,
    closed: h < 23,
    etl: (['done', 'done', 'failed', 'running', 'waiting'] as const)[h % 5]!,
    late: h % 7 === 0,
    missing: false,
    ...(h % 5 === 2 ? { etlReason: 'exit code 1 — duckdb: out of memory' } : {}),
  }));
  return {
    atMs: nowMs,
    profile: aws ? 'aws' : 'local',
    lake: aws ? 's3://openevents-lake/lake' : '/var/lib/openevents/lake',
    panes: {
      stream: {
        stale: false,
        data: {
          state: 'running',
          eventsPerSec: 1000 + (i % 50),
          bytesPerSec: 2_400_000,
          events: 1_234_567 + i * 1000,
          bytes: 3e9,
          reconnects: 3,
          invalid: 12,
          duplicates: 345,
          lastEventAgeMs: 120,
          statsAtMs: nowMs - 1000,
          history: Array.from({ length: 120 }, (_, k) => ({ atMs: nowMs - (120 - k) * 5000, eventsPerSec: 900 + ((k * 37 + i) % 200) })),
          ...(aws
            ? {
                kinesis: { stream: 'openevents', open: 4, closed: 2 },
                lander: { state: 'running' as const, recordsPerSec: 990 + (i % 20), records: 1e6 + i * 1000, lagMs: 1200 + (i % 500), shards: 4, statsAtMs: nowMs - 800 },
                inFlight: 300 + (i % 200),
              }
            : {}),
        },
      },
      lake: { stale: false, data: { url: 'file:///var/lib/openevents/lake', hours } },
      jobs: {
        stale: false,
        data: Array.from({ length: 20 }, (_, k) => ({
          id: `job-${k}`,
          kind: 'etl',
          label: `etl ${hours[k]!.hour}`,
          state: (['running', 'succeeded', 'failed'] as const)[k % 3]!,
          runner: 'local',
          startedAtMs: nowMs - 60_000 * (k + 1),
          ...(k % 3 ? { endedAtMs: nowMs - 30_000 * (k + 1) } : {}),
          ...(k % 3 === 2 ? { reason: 'etl: exit code 1 — no raw objects' } : {}),
          // On the aws profile, the newest three are EMR clusters.
          ...(aws && k < 3
            ? { runner: 'emr', phase: (['RUNNING', 'TERMINATED', 'TERMINATED_WITH_ERRORS'] as const)[k]!, steps: { done: k === 1 ? 2 : 0, total: 2 }, instanceHours: 24 * (k + 1), clusterId: `j-${k}ABCDEF` }
            : {}),
        })),
      },
      logs: {
        stale: false,
        data: {
          lines: Array.from({ length: 500 }, (_, k) => ({
            ts: new Date(nowMs - (500 - k) * 1000).toISOString(),
            level: (['info', 'warn', 'error', 'debug'] as const)[k % 4]!,
            component: k % 2 ? 'stream' : 'etl',
            kind: 'log',
            msg: `message ${k + i} with some realistic length describing what happened to the hour and why`,
          })),
        },
      },
    },
  };
}

class FakeStdout extends EventEmitter {
  frames = 0;
  isTTY = true;
  onFrame: (() => void) | undefined;
  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    super();
  }
  last = '';
  shownError = false;
  write = (frame: string): boolean => {
    this.last = frame;
    if (process.env.BENCH_TUI_DUMP && /ERROR|Error/.test(frame) && !this.shownError) {
      this.shownError = true;
      process.stderr.write(frame.slice(0, 3000) + '\n');
    }
    this.frames += 1;
    this.onFrame?.();
    return true;
  };
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  setRawMode() {}
  setEncoding() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
  read() {
    return null;
  }
}

/** As the monitor runs it: React's production build (`openevents monitor` sets NODE_ENV; see cli/commands/monitor.ts). */
process.env.NODE_ENV ??= 'production';
const { render } = await import('ink');
const { createElement } = await import('react');
const { MonitorView } = await import('../src/tui/components/Monitor.tsx');

/** Wall and CPU milliseconds per frame (CPU says what rendering costs when other work shares the cores). */
async function benchRender(columns: number, rows: number, aws = false, runs = 300): Promise<{ wall: number[]; cpu: number[] }> {
  const stdout = new FakeStdout(columns, rows);
  const layout = monitorLayout(columns, rows);
  const now = Date.now();
  const view = (state: MonitorState) => createElement(MonitorView, { state, layout, refreshMs: 1000, readonly: false, color: true });
  let state = initialState(fullSnapshot(now, 0, aws));
  const instance = render(view(state), {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: new FakeStdin() as unknown as NodeJS.ReadStream,
    debug: true,
    patchConsole: false,
    exitOnCtrlC: false,
  });
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let i = 1; i <= runs; i++) {
    state = { ...state, snapshot: fullSnapshot(now + i * 1000, i, aws), selectedHour: hourIdOf(now - (i % 24) * 3_600_000) };
    // From the new state to its frame written out (React commit, Yoga layout, Ink output).
    const written = new Promise<void>((resolve) => (stdout.onFrame = resolve));
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    instance.rerender(view(state));
    const sync = performance.now() - t0;
    await written;
    const t = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (process.env.BENCH_TUI_DUMP && i % 50 === 0) process.stderr.write(`frame ${i}: rerender ${sync.toFixed(2)} ms, to written ${t.toFixed(2)} ms, cpu ${((c.user + c.system) / 1000).toFixed(2)} ms\n`);
    if (i > 20) {
      // after JIT warm-up
      times.push(t);
      cpuTimes.push((c.user + c.system) / 1000);
    }
  }
  if (process.env.BENCH_TUI_DUMP) process.stdout.write(stdout.last + '\n');
  instance.unmount();
  return { wall: times, cpu: cpuTimes };
}

// ---------------------------------------------------------------- helpers for the real monitor

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15)
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN);
}

function fixtureLake(): string {
  const lake = mkdtempSync(path.join(tmpdir(), 'oe-bench-tui-'));
  const now = Date.now();
  for (let h = 23; h >= 1; h--) {
    writeRawHour(lake, hourBefore(now, h), 1000 + h, { manifest: true });
    writeEtlHour(lake, hourBefore(now, h), h % 6 === 0 ? 'failed' : 'done', h % 6 === 0 ? 'exit code 1' : undefined);
  }
  writeRawHour(lake, hourBefore(now, 0), 500);
  // A day of stats every 5 s, as the streamer writes them: the monitor must not re-read it each refresh.
  for (let k = 17_000; k >= 0; k--) {
    const atMs = now - k * 5000;
    if (new Date(atMs).toISOString().slice(0, 10) !== new Date(now).toISOString().slice(0, 10)) continue;
    writeStreamStats(lake, atMs, { eventsPerSec: 0, events: 1e6, reconnects: 0, invalid: 0, duplicates: 0, lastEventAgeMs: 0, state: 'stopped' });
  }
  for (let k = 0; k < 200; k++) writeTelemetry(lake, { ts: new Date(now - k * 1000).toISOString(), component: 'etl', kind: 'log', msg: `log line ${k}` });
  return lake;
}

async function startMonitor(tmux: ReturnType<typeof createTmux>, lake: string, env: string[] = [], options: { cwd?: string; nodeArgs?: string[] } = {}): Promise<number> {
  const node = [process.execPath, ...(options.nodeArgs ?? [])].join(' ');
  tmux.start(`cd ${options.cwd ?? ROOT} && exec env ${env.join(' ')} ${node} ${OPENEVENTS} monitor --lake ${lake}`, 120, 40);
  await tmux.waitFor((s) => s.includes('openevents monitor') && /Stream/.test(s) && !/loading/.test(s), 'the monitor', 60_000);
  // `exec` above: the pane's process is the monitor itself.
  return Number(execFileSync('tmux', ['-L', tmux.socket, 'display-message', '-p', '-t', 'main', '#{pane_pid}'], { encoding: 'utf8' }).trim());
}

// ---------------------------------------------------------------- 2. idle CPU

/** The process's CPU, in % of one core, over 5-s windows for IDLE_S seconds. */
async function idleWindows(pid: number): Promise<number[]> {
  const windowS = 5;
  const out: number[] = [];
  for (let t = 0; t < IDLE_S; t += windowS) {
    const a = cpuTicks(pid);
    await sleep(windowS * 1000);
    const b = cpuTicks(pid);
    out.push(((b - a) / CLK_TCK / windowS) * 100);
  }
  return out;
}

async function benchIdle(): Promise<number[]> {
  const lake = fixtureLake();
  const tmux = createTmux(`oe-bench-tui-idle-${process.pid}`);
  try {
    const pid = await startMonitor(tmux, lake);
    await sleep(5000); // start-up (tsx compile, first reads) is not idle
    return await idleWindows(pid);
  } finally {
    tmux.kill();
    rmSync(lake, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- 2b. idle CPU on the aws profile

/** moto_server with 24 h of S3 hours, CloudWatch Logs and a Kinesis stream; the fake EMR endpoint with 3 clusters. */
async function awsFixture(): Promise<{ lake: string; env: string[]; close(): Promise<void> }> {
  const moto = await startMoto();
  // The SDK's credential chain reads this process's environment.
  Object.assign(process.env, moto.env);
  const options = { endpointUrl: moto.endpoint, region: 'us-east-1' };
  const s3 = awsClient('s3', S3Client, options);
  const logs = awsClient('cloudwatch_logs', CloudWatchLogsClient, options);
  const kinesis = awsClient('kinesis', KinesisClient, options);
  const bucket = 'oe-bench-tui';
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const now = Date.now();
  const put = (key: string, body: string | Buffer) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: `lake/${key}`, Body: body }));
  // Hours of a minute-rotating streamer: 60 objects each; closed hours have their manifest.
  for (let h = 23; h >= 0; h--) {
    const hour = hourBefore(now, h);
    const files = [];
    for (let f = 0; f < (h === 0 ? 20 : 60); f++) {
      const key = `raw/${hourPath(hour)}/w1-${f * 1000 + 1}-${(f + 1) * 1000}.ndjson.gz`;
      await put(key, gzipSync('{"id":"1"}\n'));
      files.push({ key, records: 1000, bytes: 31 });
    }
    if (h > 0) await put(`raw/${hourPath(hour)}/_manifest.json`, JSON.stringify({ hour, closedAt: new Date(now).toISOString(), files, records: files.length * 1000, bytes: files.length * 31 }));
  }
  await logs.send(new CreateLogGroupCommand({ logGroupName: '/openevents' }));
  const sink = new CloudWatchTelemetry({ client: logs, group: '/openevents', component: 'etl' });
  for (let k = 0; k < 200; k++) sink.emit({ level: 'info', component: 'etl', kind: 'log', msg: `log line ${k}` });
  sink.emit({ level: 'info', component: 'stream', kind: 'stats', msg: 'stats', data: { eventsPerSec: 0, events: 1e6, durable: 1e6, state: 'stopped' } });
  await sink.close();
  await kinesis.send(new CreateStreamCommand({ StreamName: 'openevents', ShardCount: 2 }));
  // Three clusters of the pipeline: one done, one failed, one still running.
  const fake = await startFakeEmr();
  const emr = awsClient('emr', EMRClient, { ...options, endpointUrl: fake.endpoint });
  for (const [i, scenario] of [{ tickMs: 50 }, { tickMs: 50, failStep: { index: 0 } }, { tickMs: 3_600_000 }].entries()) {
    fake.next = scenario;
    const hour = hourBefore(now, i + 1);
    await emr.send(
      new RunJobFlowCommand({
        Name: `openevents etl ${hour}`,
        ReleaseLabel: 'emr-7.5.0',
        Instances: {},
        JobFlowRole: 'EMR_EC2_DefaultRole',
        ServiceRole: 'EMR_DefaultRole',
        LogUri: `s3://${bucket}/lake/_emr/logs/`,
        Tags: [{ Key: 'pipeline', Value: 'openevents' }],
        Steps: [{ Name: `etl ${hour}`, ActionOnFailure: 'TERMINATE_CLUSTER', HadoopJarStep: { Jar: 'command-runner.jar', Args: ['spark-submit', 'etl.py'] } }],
      }),
    );
  }
  for (const c of [s3, logs, kinesis, emr]) c.destroy();
  const env = Object.entries({ ...moto.env, AWS_ENDPOINT_URL_EMR: fake.endpoint, OPENEVENTS_PROFILE: 'aws' }).map(([k, v]) => `${k}=${v}`);
  return {
    lake: `s3://${bucket}/lake`,
    env,
    close: async () => {
      await fake.close();
      await moto.stop();
    },
  };
}

async function benchIdleAws(): Promise<number[]> {
  const fixture = await awsFixture();
  const work = mkdtempSync(path.join(tmpdir(), 'oe-bench-tui-aws-'));
  const tmux = createTmux(`oe-bench-tui-aws-${process.pid}`);
  try {
    const pid = await startMonitor(tmux, fixture.lake, fixture.env, { cwd: work });
    await tmux.waitFor((s) => /Jobs \(3\)/.test(s) && /kinesis 2 open shards/.test(s) && /log line 199/.test(s), 'clusters, shards and logs', 60_000);
    await sleep(5000);
    const out = await idleWindows(pid);
    if (process.env.BENCH_TUI_DUMP) process.stdout.write(tmux.capture() + '\n');
    return out;
  } finally {
    tmux.kill();
    await fixture.close();
    rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- 3. RSS while streaming

/**
 * The monitor's live heap: a heap snapshot (SIGUSR2 with --heapsnapshot-signal) collects garbage
 * first, so its total is what the process retains — RSS also moves with V8's and malloc's sizing.
 */
async function liveHeapMiB(pid: number, dir: string): Promise<number> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 120_000;
  for (;;) {
    const fresh = readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (fresh[0]) {
      const file = path.join(dir, fresh[0]);
      // Node writes the snapshot in place: read it once it parses (a partial file does not).
      let snap: { snapshot: { meta: { node_fields: string[] } }; nodes: number[] } | undefined;
      try {
        snap = JSON.parse(readFileSync(file, 'utf8')) as typeof snap;
      } catch {
        snap = undefined;
      }
      if (snap) {
        rmSync(file);
        const width = snap.snapshot.meta.node_fields.length;
        const selfSize = snap.snapshot.meta.node_fields.indexOf('self_size');
        let total = 0;
        for (let i = selfSize; i < snap.nodes.length; i += width) total += snap.nodes[i]!;
        return total / 1048576;
      }
    }
    if (Date.now() > deadline) throw new Error('no heap snapshot in 120 s');
    await sleep(500);
  }
}

async function benchRss(): Promise<{ samples: Array<[number, number]>; cpu: number[]; heap: [number, number] }> {
  const lake = mkdtempSync(path.join(tmpdir(), 'oe-bench-tui-rss-'));
  const heapDir = mkdtempSync(path.join(tmpdir(), 'oe-bench-tui-heap-'));
  const tmux = createTmux(`oe-bench-tui-rss-${process.pid}`);
  const server: ChildProcess = spawn(process.execPath, [OPENEVENTS, 'source', 'serve', '--generate', '--rate', '1000', '--port', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let buf = '';
      server.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /listening on (\S+)/.exec(buf);
        if (m) resolve(m[1]!);
      });
      server.once('exit', () => reject(new Error(`source server exited: ${buf}`)));
    });
    server.stdout!.on('error', () => undefined);
    const pid = await startMonitor(tmux, lake, [`OPENEVENTS_SOURCE_URL=${url}`], { cwd: heapDir, nodeArgs: ['--heapsnapshot-signal=SIGUSR2'] });
    tmux.send('s');
    await tmux.waitFor((s) => /● running\s+[\d.]+k? ev\/s/.test(s) && !/● running\s+0 ev\/s/.test(s), 'events to flow', 90_000);
    // The first heap snapshot, then a settle: start-up garbage (module compilation) and the
    // snapshot's own allocations are collected before RSS is sampled; the question is whether
    // memory grows while streaming, not how much start-up leaves behind.
    const heapStart = await liveHeapMiB(pid, heapDir);
    const heapStartAt = Date.now();
    await sleep(quick ? 10_000 : 60_000);
    const samples: Array<[number, number]> = [];
    const cpu: number[] = [];
    const start = Date.now();
    let ticks = cpuTicks(pid);
    while (Date.now() - start < RSS_S * 1000) {
      samples.push([(Date.now() - start) / 1000, rssKiB(pid)]);
      await sleep(5000);
      const now = cpuTicks(pid);
      cpu.push(((now - ticks) / CLK_TCK / 5) * 100);
      ticks = now;
    }
    samples.push([(Date.now() - start) / 1000, rssKiB(pid)]);
    const heapEnd = await liveHeapMiB(pid, heapDir);
    log(`  live heap measured over ${((Date.now() - heapStartAt) / 1000).toFixed(0)} s of streaming`);
    const screen = tmux.capture();
    const eps = /● \w+\s+([\d.]+k?) ev\/s/.exec(screen)?.[1];
    log(`  streamer rate at the end: ${eps ?? '?'} ev/s`);
    return { samples, cpu, heap: [heapStart, heapEnd] };
  } finally {
    tmux.kill();
    await new LocalJobRunner({ dir: path.join(lake, '_state/jobs') }).stopAll();
    // Wait for the server to exit while still reading its stdout (its goodbye line must not hit a closed pipe).
    server.stdout!.resume();
    await new Promise<void>((resolve) => {
      if (server.exitCode !== null) return resolve();
      server.once('exit', () => resolve());
      server.kill('SIGTERM');
    });
    rmSync(lake, { recursive: true, force: true });
    rmSync(heapDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- main

log(`bench:tui${quick ? ' (quick)' : ''}`);
if (!only || only === 'render') for (const [c, r, aws] of [
  [120, 40, false],
  [80, 24, false],
  [120, 40, true],
  [80, 24, true],
] as const) {
  const { wall, cpu } = await benchRender(c, r, aws);
  log(
    `render, full frame with the 24-hour grid, ${aws ? 'aws' : 'local'} profile, ${c}×${r}: median ${median(wall).toFixed(2)} ms wall (p95 ${pct(wall, 0.95).toFixed(2)}), ` +
      `${median(cpu).toFixed(2)} ms CPU, over ${wall.length} frames (target median < 16 ms: ${median(wall) < 16 ? 'ok' : 'MISSED'})`,
  );
}

if (only === 'render') process.exit(0);
const idle = only && only !== 'idle' ? undefined : await benchIdle();
if (idle) log(`idle CPU at the default refresh (1 s), ${IDLE_S} s in ${idle.length} windows: median ${median(idle).toFixed(2)}% of one core, max ${Math.max(...idle).toFixed(2)}% (target < 3%: ${median(idle) < 3 ? 'ok' : 'MISSED'})`);

const awsIdle = only && only !== 'idle' && only !== 'aws' ? undefined : await benchIdleAws();
if (awsIdle) log(`idle CPU on the aws profile (24 h of S3 hours, 3 EMR clusters, CloudWatch Logs, Kinesis), ${IDLE_S} s in ${awsIdle.length} windows: median ${median(awsIdle).toFixed(2)}% of one core, max ${Math.max(...awsIdle).toFixed(2)}% (target < 3%: ${median(awsIdle) < 3 ? 'ok' : 'MISSED'})`);

if (only === 'idle' || only === 'aws') process.exit(0);
const { samples, cpu, heap } = await benchRss();
const fifth = Math.max(1, Math.floor(samples.length / 5));
const early = median(samples.slice(0, fifth).map(([, kib]) => kib));
const late = median(samples.slice(-fifth).map(([, kib]) => kib));
const growth = ((late - early) / early) * 100;
const kibs = samples.map(([, kib]) => kib);
const tail = kibs.slice(fifth);
const tailSpread = ((Math.max(...tail) - Math.min(...tail)) / Math.min(...tail)) * 100;
log(
  `RSS over ${RSS_S} s with the streamer at 1,000 events/s (after a settle minute): first fifth median ${(early / 1024).toFixed(1)} MiB, ` +
    `last fifth median ${(late / 1024).toFixed(1)} MiB, growth ${growth.toFixed(1)}%, range ${(Math.min(...kibs) / 1024).toFixed(1)}–${(Math.max(...kibs) / 1024).toFixed(1)} MiB ` +
    `; sawtooth after the first fifth ${tailSpread.toFixed(1)}% ` +
    `(target flat within 10%, first vs last fifth: ${Math.abs(growth) <= 10 ? 'ok' : growth < 0 ? 'MISSED: it fell, it did not grow' : 'MISSED'}); ` +
    `monitor CPU meanwhile: median ${median(cpu).toFixed(2)}% of one core`,
);
const heapGrowth = ((heap[1] - heap[0]) / heap[0]) * 100;
log(
  `live heap (after GC, from heap snapshots before the settle and after the RSS window): ${heap[0].toFixed(1)} → ${heap[1].toFixed(1)} MiB, ` +
    `growth ${heapGrowth.toFixed(1)}% (target flat within 10%: ${Math.abs(heapGrowth) <= 10 ? 'ok' : 'MISSED'})`,
);
log(`  RSS samples (s, MiB): ${samples.map(([t, kib]) => `${t.toFixed(0)}:${(kib / 1024).toFixed(1)}`).join(' ')}`);
process.exit(0);
