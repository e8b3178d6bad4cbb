/**
 * Transport benchmark (`npm run bench:kinesis`), against moto_server on 127.0.0.1:
 *
 * - Kinesis: COUNT generated events through `openevents stream --sink kinesis` and
 *   `openevents land` (both running, as in production): PutRecords calls per 10,000 events
 *   (target at most 25; the original system made 10,000, one call per event) and end-to-end
 *   events/s, from the streamer's start until the lander has landed every event in the lake.
 * - Firehose: the same events through `openevents stream --sink firehose`: PutRecordBatch calls
 *   per 10,000 events and events/s until every event is in S3 (moto's Firehose writes on each call).
 * - The original design for comparison, measured before each run: one PutRecord per event, one
 *   at a time, on the same emulator (BASELINE events); the ratio of our end-to-end rate to it
 *   is what stays when the machine's speed or load changes.
 *
 * Calls are counted by the proxy in front of moto (test/helpers/aws-proxy.ts, no faults:
 * it only serialises Kinesis calls, which moto needs), not by the code under test. Prints each
 * run and the medians of RUNS runs. The emulator is slow (Python, one call at a time): the
 * events/s are the emulator's ceiling as much as ours; the call counts are not.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';
import { build, isStale } from '../scripts/build.mjs';
import { awsClient, s3Client } from '../src/aws/clients.ts';
import { createGenerator } from '../src/source/generator.ts';
import { replayFeed, type CaptureRecord } from '../src/source/replay.ts';
import { startSourceServer } from '../src/source/server.ts';
import { startAwsProxy } from '../test/helpers/aws-proxy.ts';
import { startMoto } from '../test/helpers/moto.ts';

const COUNT = Number(process.env.BENCH_KINESIS_COUNT ?? 10_000);
const RUNS = Number(process.env.BENCH_KINESIS_RUNS ?? 3);
const BASELINE = Number(process.env.BENCH_KINESIS_BASELINE ?? 300);
const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'dist/cli/main.js');

// The pinned SDK warns about its future Node 22 requirement; the toolkit's own clients silence it too.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Once, before processes start side by side (each would rebuild a stale dist/ at once).
if (isStale()) await build();

const records: CaptureRecord[] = [];
const pairs = new Set<string>();
for (const r of createGenerator({ seed: 42, count: COUNT })) {
  records.push({ bytes: Buffer.from(r.line), id: r.id, mtime: r.mtime });
  pairs.add(`${r.id}\u0000${r.mtime}`);
}
const distinct = pairs.size;
process.stdout.write(`kinesis bench: ${COUNT.toLocaleString('en-US')} events (${distinct.toLocaleString('en-US')} distinct), ${RUNS} runs; ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(1)}\n`);

const moto = await startMoto();
// Counts only (10,000 events make many MB of request bodies).
const proxy = await startAwsProxy(moto.endpoint, { keepRequests: false });
Object.assign(process.env, moto.env);
const env = { ...process.env, AWS_ENDPOINT_URL: proxy.endpoint };
const kinesis = awsClient('kinesis', KinesisClient, { endpointUrl: proxy.endpoint });
const s3 = s3Client({ endpointUrl: moto.endpoint });

interface Run {
  calls: number;
  seconds: number;
}

// The CLIs' working directory: a command on an s3:// lake keeps its local telemetry in <cwd>/.openevents.
const work = await mkdtemp(path.join(os.tmpdir(), 'oe-bench-kinesis-'));

function cli(args: string[]): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function createStream(name: string, shards: number): Promise<void> {
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  while ((await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary?.StreamStatus !== 'ACTIVE') await new Promise((r) => setTimeout(r, 50));
}

/** Kinesis: streamer and lander together, until the lander has landed every event. */
async function kinesisRun(run: number): Promise<Run> {
  const stream = `bench-k-${run}`;
  const bucket = `bench-k-${run}`;
  await createStream(stream, 2);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const server = await startSourceServer({ feed: replayFeed(records) });
  const local = await mkdtemp(path.join(os.tmpdir(), 'oe-bench-k-'));
  const before = proxy.calls('kinesis.PutRecords');
  try {
    const started = process.hrtime.bigint();
    const lake = `s3://${bucket}/lake`;
    const streamer = cli(['stream', '--url', server.url, '--lake', local, '--sink', 'kinesis', '--kinesis-stream', stream, '--max-events', String(distinct), '--json', '-q']);
    const lander = cli(['land', '--kinesis-stream', stream, '--lake', lake, '--rotate-age', '2000', '--stats-interval', '200']);
    let landed = 0;
    let done: () => void = () => undefined;
    const allLanded = new Promise<void>((resolve) => (done = resolve));
    let progress = '';
    lander.stderr!.on('data', (d: Buffer) => {
      progress += d.toString();
      const lines = progress.split('\n');
      progress = lines.pop()!;
      for (const line of lines) {
        const m = /land: ([\d,]+) records landed/.exec(line);
        if (m) landed = Math.max(landed, Number(m[1]!.replace(/,/g, '')));
        if (landed >= distinct) done();
      }
    });
    let streamerErr = '';
    streamer.stderr!.on('data', (d: Buffer) => (streamerErr += d.toString()));
    const streamerCode = exited(streamer);
    const failed = (who: string, code: number | null): Promise<never> => Promise.reject(new Error(`the ${who} exited with ${code}: ${who === 'streamer' ? streamerErr : progress}`));
    await Promise.race([allLanded, exited(lander).then((code) => failed('lander', code)), streamerCode.then((code) => (code === 0 ? allLanded : failed('streamer', code)))]);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    lander.kill('SIGTERM');
    await streamerCode;
    await exited(lander);
    if (landed !== distinct) throw new Error(`landed ${landed} events, expected ${distinct}`);
    return { calls: proxy.calls('kinesis.PutRecords') - before, seconds };
  } finally {
    await server.close();
    await rm(local, { recursive: true, force: true });
  }
}

/** Firehose: the streamer until it exits (every event acknowledged, so written to S3 by moto). */
async function firehoseRun(run: number): Promise<Run> {
  const name = `bench-f-${run}`;
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  const firehose = awsClient('firehose', FirehoseClient, { endpointUrl: proxy.endpoint });
  await firehose.send(
    new CreateDeliveryStreamCommand({
      DeliveryStreamName: name,
      ExtendedS3DestinationConfiguration: { BucketARN: `arn:aws:s3:::${name}`, RoleARN: 'arn:aws:iam::123456789012:role/openevents-firehose', Prefix: 'lake/raw/' },
    }),
  );
  firehose.destroy();
  const server = await startSourceServer({ feed: replayFeed(records) });
  const local = await mkdtemp(path.join(os.tmpdir(), 'oe-bench-f-'));
  const before = proxy.calls('firehose.PutRecordBatch');
  try {
    const started = process.hrtime.bigint();
    const streamer = cli(['stream', '--url', server.url, '--lake', local, '--sink', 'firehose', '--delivery-stream', name, '--max-events', String(distinct), '--json', '-q']);
    let err = '';
    streamer.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    if ((await exited(streamer)) !== 0) throw new Error(`the streamer failed: ${err}`);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const delivered = await countLines(name, 'lake/raw/');
    if (delivered !== distinct) throw new Error(`Firehose delivered ${delivered} events, expected ${distinct}`);
    return { calls: proxy.calls('firehose.PutRecordBatch') - before, seconds };
  } finally {
    await server.close();
    await rm(local, { recursive: true, force: true });
  }
}

/** The original design: one PutRecord per event, one at a time. */
async function baselineRun(run: number): Promise<number> {
  const stream = `bench-baseline-${run}`;
  await createStream(stream, 2);
  const started = process.hrtime.bigint();
  for (const r of records.slice(0, BASELINE)) await kinesis.send(new PutRecordCommand({ StreamName: stream, PartitionKey: r.id, Data: r.bytes }));
  return BASELINE / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function countLines(bucket: string, prefix: string): Promise<number> {
  let n = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of page.Contents ?? []) {
      let bytes = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }))).Body!.transformToByteArray());
      if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
      n += bytes.toString('utf8').split('\n').filter(Boolean).length;
    }
    token = page.NextContinuationToken;
  } while (token);
  return n;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const per10k = (r: Run): number => (r.calls * 10_000) / distinct;
const rate = (r: Run): number => distinct / r.seconds;

try {
  const k: Array<Run & { baseline: number }> = [];
  const f: Array<Run & { baseline: number }> = [];
  for (let i = 1; i <= RUNS; i++) {
    // The baseline next to each run: the machine's load changes, the ratio stays.
    const baseline = await baselineRun(i);
    process.stdout.write(`run ${i} baseline: one PutRecord per event, ${baseline.toFixed(0)} events/s\n`);
    const kr = { ...(await kinesisRun(i)), baseline };
    k.push(kr);
    process.stdout.write(`run ${i} kinesis:  ${kr.calls} PutRecords (${per10k(kr).toFixed(1)} per 10,000 events), ${kr.seconds.toFixed(1)} s end to end, ${rate(kr).toFixed(0)} events/s\n`);
    const fr = { ...(await firehoseRun(i)), baseline };
    f.push(fr);
    process.stdout.write(`run ${i} firehose: ${fr.calls} PutRecordBatch (${per10k(fr).toFixed(1)} per 10,000 events), ${fr.seconds.toFixed(1)} s to S3, ${rate(fr).toFixed(0)} events/s\n`);
  }
  process.stdout.write(
    `medians: one PutRecord per event ${median(k.map((r) => r.baseline)).toFixed(0)} events/s (10,000 calls per 10,000 events); ` +
      `kinesis ${median(k.map(per10k)).toFixed(1)} PutRecords per 10,000 events (target ≤ 25), ${median(k.map(rate)).toFixed(0)} events/s streamer → Kinesis → lander → S3 ` +
      `(${median(k.map((r) => rate(r) / r.baseline)).toFixed(1)}× the baseline); ` +
      `firehose ${median(f.map(per10k)).toFixed(1)} PutRecordBatch per 10,000 events, ${median(f.map(rate)).toFixed(0)} events/s (${median(f.map((r) => rate(r) / r.baseline)).toFixed(1)}×)\n`,
  );
} finally {
  kinesis.destroy();
  s3.destroy();
  await proxy.close();
  await moto.stop();
  await rm(work, { recursive: true, force: true });
}
