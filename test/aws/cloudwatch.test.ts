import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CloudWatchLogsClient, CreateLogGroupCommand, FilterLogEventsCommand, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { awsClient, s3Client } from '../../src/aws/clients.ts';
import { startSourceServer } from '../../src/source/server.ts';
import { CloudWatchTelemetry, CloudWatchTelemetryReader } from '../../src/telemetry/cloudwatch.ts';
import { LocalTelemetry, type TelemetryRecord } from '../../src/telemetry/telemetry.ts';
import { startAwsProxy, type AwsProxy } from '../helpers/aws-proxy.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { useMoto } from '../helpers/moto.ts';

const moto = useMoto();
let proxy: AwsProxy;
let logs: CloudWatchLogsClient;
const GROUP = '/openevents/test';

beforeAll(async () => {
  proxy = await startAwsProxy(moto().endpoint);
  logs = awsClient('cloudwatch_logs', CloudWatchLogsClient, { endpointUrl: moto().endpoint });
  await logs.send(new CreateLogGroupCommand({ logGroupName: GROUP }));
});
afterAll(async () => {
  await proxy?.close();
  logs?.destroy();
});

/** A sink that talks to CloudWatch Logs through the proxy. */
function sinkThroughProxy(stream: string, options: Partial<ConstructorParameters<typeof CloudWatchTelemetry>[0]> = {}): CloudWatchTelemetry {
  const client = awsClient('cloudwatch_logs', CloudWatchLogsClient, { endpointUrl: proxy.endpoint, maxAttempts: 1, requestTimeoutMs: 5_000 });
  return new CloudWatchTelemetry({ client, group: GROUP, stream, flushIntervalMs: 50, closeTimeoutMs: 60_000, ...options });
}

/** Every event of one log stream, read straight from moto. */
async function eventsOf(stream: string): Promise<FilteredLogEvent[]> {
  const out: FilteredLogEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await logs.send(new FilterLogEventsCommand({ logGroupName: GROUP, logStreamNames: [stream], ...(nextToken ? { nextToken } : {}) }));
    out.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

/** The PutLogEvents calls the proxy saw for one log stream. */
function putCalls(stream: string): Array<{ logEvents: Array<{ timestamp: number; message: string }> }> {
  return proxy.requests
    .filter((r) => r.target?.endsWith('.PutLogEvents'))
    .map((r) => JSON.parse(r.body.toString('utf8')) as { logStreamName: string; logEvents: Array<{ timestamp: number; message: string }> })
    .filter((b) => b.logStreamName === stream);
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('CloudWatch Logs telemetry against moto_server', () => {
  it('ships every record in batches within PutLogEvents limits, each in time order and under 24 h', async () => {
    // Given 25,000 small records, a few large ones, and a day and a half of back-dated records, emitted out of order
    // in one burst (a buffer that holds them all: the bound is the outage test's)
    const sink = sinkThroughProxy('limits/1', { maxBufferedRecords: 50_000, maxBufferedBytes: 64 * 1024 * 1024 });
    const now = Date.now();
    const emitted: string[] = [];
    const emit = (i: number, tsMs: number, extra?: Record<string, unknown>): void => {
      const msg = `record ${i}`;
      emitted.push(msg);
      sink.emit({ level: 'info', component: 'test', kind: 'log', msg, ts: new Date(tsMs).toISOString(), ...(extra ? { data: extra } : {}) });
    };
    for (let i = 0; i < 25_000; i++) emit(i, now - 1_000 + (i % 97));
    for (let i = 0; i < 12; i++) emit(25_000 + i, now - 500, { blob: 'x'.repeat(150_000) });
    for (let i = 0; i < 40; i++) emit(30_000 + i, now - 36 * 3_600_000 + i * 3_600_000 * 0.9);

    // When the sink is closed (it ships what it holds)
    await sink.close();

    // Then every call stayed within the limits, computed here from the request bodies
    const calls = putCalls('limits/1');
    expect(calls.length).toBeGreaterThanOrEqual(Math.ceil(25_052 / 10_000));
    for (const call of calls) {
      const events = call.logEvents;
      expect(events.length).toBeLessThanOrEqual(10_000);
      const bytes = events.reduce((n, e) => n + Buffer.byteLength(e.message, 'utf8') + 26, 0);
      expect(bytes).toBeLessThanOrEqual(1_048_576);
      for (let i = 1; i < events.length; i++) expect(events[i]!.timestamp).toBeGreaterThanOrEqual(events[i - 1]!.timestamp);
      expect(events.at(-1)!.timestamp - events[0]!.timestamp).toBeLessThan(24 * 3_600_000);
    }
    // and each record arrived exactly once, as the JSON line the local sink would write
    const stored = await eventsOf('limits/1');
    const messages = stored.map((e) => (JSON.parse(e.message!) as TelemetryRecord).msg);
    expect(messages.sort()).toEqual([...emitted].sort());
    expect(sink.stats()).toMatchObject({ shipped: 25_052, dropped: 0, pending: 0 });
  });

  it('drops, and counts, what CloudWatch would refuse: records older than 14 days', async () => {
    const sink = sinkThroughProxy('limits/old');
    sink.emit({ level: 'info', component: 'test', kind: 'log', msg: 'ancient', ts: new Date(Date.now() - 15 * 86_400_000).toISOString() });
    sink.emit({ level: 'info', component: 'test', kind: 'log', msg: 'fresh' });
    await sink.close();
    const shipped = putCalls('limits/old').flatMap((c) => c.logEvents.map((e) => (JSON.parse(e.message) as TelemetryRecord).msg));
    expect(shipped).toEqual(['fresh', 'dropped telemetry records: 1 that CloudWatch Logs refuses (older than 14 days or over 2 hours ahead)']);
    expect(sink.stats()).toMatchObject({ shipped: 2, dropped: 1 });
  });

  it('never blocks while CloudWatch is down: holds a bounded buffer, drops the oldest with a count, and says so when it is back', async () => {
    // Given CloudWatch unreachable (every connection dropped) and a sink that may hold 100 records
    proxy.mode = 'drop';
    onTestFinished(() => void (proxy.mode = 'up'));
    const problems: string[] = [];
    const sink = sinkThroughProxy('outage/1', { maxBufferedRecords: 100, maxBackoffMs: 300, onProblem: (m) => problems.push(m) });
    // When 1,000 records are emitted
    const started = process.hrtime.bigint();
    for (let i = 0; i < 1_000; i++) sink.emit({ level: 'info', component: 'test', kind: 'log', msg: `outage ${i}` });
    const emitMs = Number(process.hrtime.bigint() - started) / 1e6;
    // Then emitting took no network time, shipping was tried and failed, and the buffer held its bound
    expect(emitMs).toBeLessThan(500);
    const attempts = (): number => proxy.requests.filter((r) => r.target?.endsWith('.CreateLogStream') || r.target?.endsWith('.PutLogEvents')).length;
    const before = attempts();
    await until('a failure reported and a retry made', () => problems.length > 0 && attempts() >= before + 2);
    expect(sink.stats()).toMatchObject({ pending: 100, dropped: 900, shipped: 0 });
    expect(problems[0]).toMatch(/cannot ship to CloudWatch Logs group \/openevents\/test/);

    // When CloudWatch comes back
    proxy.mode = 'up';
    await until('the buffer shipped', () => sink.stats().shipped >= 100 && sink.stats().pending === 0);
    await sink.close();

    // Then the newest 100 records arrived, and a warning record counts the 900 lost
    const stored = (await eventsOf('outage/1')).map((e) => JSON.parse(e.message!) as TelemetryRecord);
    expect(stored.filter((r) => r.component === 'test').map((r) => r.msg)).toEqual(Array.from({ length: 100 }, (_, i) => `outage ${900 + i}`));
    const warning = stored.find((r) => r.component === 'telemetry');
    expect(warning).toMatchObject({ level: 'warn', data: { dropped: 900 } });
    expect(warning?.msg).toMatch(/^dropped telemetry records: 900 beyond the buffer of 100 records while CloudWatch Logs could not be reached/);
    expect(problems.at(-1)).toMatch(/dropped 900 beyond the buffer/);
  });

  it('with no log group it says so, and close does not wait out its timeout', async () => {
    const problems: string[] = [];
    const client = awsClient('cloudwatch_logs', CloudWatchLogsClient, { endpointUrl: moto().endpoint, maxAttempts: 1 });
    const sink = new CloudWatchTelemetry({ client, group: '/openevents/never-created', stream: 's', flushIntervalMs: 20, closeTimeoutMs: 30_000, onProblem: (m) => problems.push(m) });
    for (let i = 0; i < 5; i++) sink.emit({ level: 'info', component: 'test', kind: 'log', msg: `r${i}` });
    await until('the failure', () => problems.length > 0);
    const started = Date.now();
    await sink.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(problems[0]).toMatch(/log group "\/openevents\/never-created" does not exist/);
    expect(sink.stats()).toMatchObject({ shipped: 0, dropped: 5, pending: 0 });
    client.destroy();
  });

  it('redacts secrets before they leave the process', async () => {
    const sink = sinkThroughProxy('redact/1');
    sink.emit({ level: 'error', component: 'stream', kind: 'log', msg: 'GET https://u:hunter2hunter2@h/x?token=abcdef123456 failed', data: { sessionToken: 'FQoGZXIvYXdzEJr', url: 'http://h/?sig=zzz' } });
    await sink.close();
    const body = putCalls('redact/1').map((c) => JSON.stringify(c)).join('\n');
    expect(body).not.toMatch(/hunter2|abcdef123456|FQoGZXIvYXdzEJr|zzz/);
    expect(body).toContain('token=***');
  });
});

describe('openevents stream on the aws profile with CloudWatch Logs down', { timeout: 600_000 }, () => {
  it('lands every event in the s3:// lake on time and ends with a count of the telemetry it could not ship', async () => {
    // Given a source of 3,000 events, an S3 lake on moto, and CloudWatch Logs behind a proxy that drops every connection
    const s3 = s3Client({ endpointUrl: moto().endpoint });
    await s3.send(new CreateBucketCommand({ Bucket: 'cw-outage-lake' }));
    const source = await startSourceServer({ generate: { seed: 3, count: 3_000, startMs: Date.now() - 60_000, stepMs: 10 }, rate: 0 });
    const cache = await mkdtemp(path.join(os.tmpdir(), 'oe-cw-cache-'));
    proxy.mode = 'drop';
    onTestFinished(() => void (proxy.mode = 'up'));
    try {
      // When the streamer runs until 3,000 events are durable
      const started = Date.now();
      const run = await runCli(['stream', '--url', source.url, '--max-events', '3000', '--stats-interval', '200', '--rotate-age', '1000'], {
        env: {
          ...process.env,
          OPENEVENTS_PROFILE: 'aws',
          OPENEVENTS_LAKE: 's3://cw-outage-lake/lake',
          OPENEVENTS_AWS_LOGS_GROUP: GROUP,
          OPENEVENTS_AWS_S3_CACHE_DIR: cache,
          AWS_ENDPOINT_URL: moto().endpoint,
          AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: proxy.endpoint,
        },
      });
      const seconds = (Date.now() - started) / 1000;
      // Then it succeeded, with every event in the bucket, and said how much telemetry was lost
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/warning: telemetry: cannot ship to CloudWatch Logs group \/openevents\/test/);
      expect(run.stderr).toMatch(/warning: telemetry: \d+ record\(s\) could not be shipped to CloudWatch Logs/);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'cw-outage-lake', Prefix: 'lake/raw/' }));
      const stored: string[] = [];
      for (const o of listed.Contents ?? []) {
        if (!o.Key!.endsWith('.ndjson.gz')) continue;
        const body = await (await s3.send(new GetObjectCommand({ Bucket: 'cw-outage-lake', Key: o.Key! }))).Body!.transformToByteArray();
        for (const line of gunzipSync(body).toString('utf8').split('\n')) {
          if (!line) continue;
          const e = JSON.parse(line) as { id: string; mtime: number };
          stored.push(`${e.id}@${e.mtime}`);
        }
      }
      const served = new Set(source.log().events.map((e) => `${e.id}@${e.mtime}`));
      expect(stored).toHaveLength(3_000);
      expect(new Set(stored).size).toBe(3_000);
      expect(stored.every((k) => served.has(k))).toBe(true);
      // (the outage costs at most the bounded close-time flush, not a stall of the pipeline)
      expect(seconds).toBeLessThan(60);
    } finally {
      proxy.mode = 'up';
      await source.close();
      await rm(cache, { recursive: true, force: true });
    }
  });
});

describe('openevents logs', { timeout: 600_000 }, () => {
  const awsEnv = (): NodeJS.ProcessEnv => ({ ...process.env, OPENEVENTS_PROFILE: 'aws', OPENEVENTS_AWS_LOGS_GROUP: GROUP, AWS_ENDPOINT_URL: moto().endpoint });

  it('reads CloudWatch Logs back on the aws profile, filtered by text, component and kind', async () => {
    const client = awsClient('cloudwatch_logs', CloudWatchLogsClient, { endpointUrl: moto().endpoint, maxAttempts: 1 });
    const sink = new CloudWatchTelemetry({ client, group: GROUP, stream: 'logs/read', closeTimeoutMs: 30_000 });
    sink.emit({ level: 'info', component: 'etl', kind: 'log', msg: 'hour 2026-11-28T06 done' });
    sink.emit({ level: 'warn', component: 'lander', kind: 'log', msg: 'reconnecting after stall' });
    sink.emit({ level: 'info', component: 'lander', kind: 'stats', msg: 'stats', data: { events: 42 } });
    await sink.close();

    const all = await runCli(['logs', '--since', '10m', '--json', '--component', 'lander'], { env: awsEnv() });
    expect(all.code, all.stderr).toBe(0);
    const records = all.stdout.trim().split('\n').map((l) => JSON.parse(l) as TelemetryRecord);
    expect(records.map((r) => r.msg)).toEqual(['reconnecting after stall', 'stats']);
    const filtered = await runCli(['logs', '--since', '10m', '--filter', 'after stall'], { env: awsEnv() });
    expect(filtered.stdout.trim().split('\n')).toHaveLength(1);
    expect(filtered.stdout).toMatch(/WARN\s+lander\s+reconnecting after stall/);
    const reader = new CloudWatchTelemetryReader(client, GROUP);
    expect((await reader.read({ kind: 'stats', sinceMs: Date.now() - 600_000 })).map((r) => r.data)).toContainEqual({ events: 42 });
    client.destroy();
  });

  it('follows CloudWatch Logs: new records appear once each', async () => {
    const follow = spawnCli(['logs', '--follow', '--since', '1m', '--interval', '200', '--component', 'follow'], { env: awsEnv() });
    let out = '';
    follow.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const client = awsClient('cloudwatch_logs', CloudWatchLogsClient, { endpointUrl: moto().endpoint, maxAttempts: 1 });
      const sink = new CloudWatchTelemetry({ client, group: GROUP, stream: 'logs/follow', flushIntervalMs: 50 });
      // Before the follower has read its history, and after
      sink.emit({ level: 'info', component: 'follow', kind: 'log', msg: 'first' });
      await until('the first record', () => out.includes('first'), 30_000);
      for (const msg of ['second', 'third']) sink.emit({ level: 'info', component: 'follow', kind: 'log', msg });
      await until('two more records', () => out.includes('third'), 30_000);
      await new Promise((r) => setTimeout(r, 800)); // a few more polls: nothing may repeat
      await sink.close();
      client.destroy();
      expect(out.trim().split('\n').map((l) => l.split(/\s+/).at(-1))).toEqual(['first', 'second', 'third']);
    } finally {
      follow.kill('SIGTERM');
    }
  });

  it('says the log group does not exist, naming it and the region', async () => {
    const run = await runCli(['logs'], { env: { ...awsEnv(), OPENEVENTS_AWS_REGION: 'eu-west-1' } });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      `error: log group "${GROUP}" does not exist in eu-west-1`,
      'hint: create it with `openevents infra up`, or check the name and aws.region (OPENEVENTS_AWS_REGION)',
    ]);
  });

  it('reads and follows the local _telemetry/ lines on the local profile, files that appear later included', async () => {
    const lake = await mkdtemp(path.join(os.tmpdir(), 'oe-logs-local-'));
    try {
      const sink = new LocalTelemetry(lake);
      sink.emit({ level: 'info', component: 'etl', kind: 'log', msg: 'old etl line' });
      const follow = spawnCli(['logs', '--lake', lake, '--follow', '--interval', '200'], { env: { ...process.env, OPENEVENTS_PROFILE: 'local' } });
      let out = '';
      follow.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      try {
        await until('the history', () => out.includes('old etl line'), 30_000);
        sink.emit({ level: 'info', component: 'etl', kind: 'log', msg: 'new etl line' });
        sink.emit({ level: 'error', component: 'brand-new', kind: 'log', msg: 'from a new file' });
        await until('the new lines', () => out.includes('from a new file') && out.includes('new etl line'), 30_000);
        await new Promise((r) => setTimeout(r, 600));
        expect(out.trim().split('\n')).toHaveLength(3);
      } finally {
        follow.kill('SIGTERM');
      }
    } finally {
      await rm(lake, { recursive: true, force: true });
    }
  });
});
