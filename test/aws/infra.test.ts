import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CloudWatchLogsClient, DescribeLogGroupsCommand, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeDeliveryStreamCommand, FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import {
  CreateBucketCommand,
  DeleteBucketWebsiteCommand,
  GetBucketPolicyCommand,
  GetBucketWebsiteCommand,
  GetPublicAccessBlockCommand,
  ListBucketsCommand,
  PutPublicAccessBlockCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClient, s3Client } from '../../src/aws/clients.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { startAwsProxy, type AwsProxy } from '../helpers/aws-proxy.ts';
import { runCli } from '../helpers/cli.ts';
import { useMoto } from '../helpers/moto.ts';
import { CAPTURE } from '../helpers/fixtures.ts';
import { readFile } from 'node:fs/promises';

const moto = useMoto();
/** The IAM roles `infra up` makes for this config (Firehose configured without a role of its own: its role too). */
const ROLES = ['openevents-streamer', 'openevents-lander', 'openevents-emr-steps', 'openevents-scheduler', 'openevents-operator', 'openevents-firehose'];
let s3: S3Client;
let cache: string;

beforeAll(async () => {
  s3 = s3Client({ endpointUrl: moto().endpoint });
  cache = await mkdtemp(path.join(os.tmpdir(), 'oe-infra-cache-'));
});
afterAll(async () => {
  await rm(cache, { recursive: true, force: true });
});

/** The aws profile's environment for the CLI, pointed at moto (or a proxy in front of it). */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ENDPOINT_URL: moto().endpoint,
    OPENEVENTS_PROFILE: 'aws',
    OPENEVENTS_LAKE: 's3://infra-lake/lake',
    OPENEVENTS_AWS_REPORT_BUCKET: 'infra-site',
    OPENEVENTS_AWS_REPORT_PREFIX: 'dash/',
    OPENEVENTS_AWS_KINESIS_STREAM: 'infra-events',
    OPENEVENTS_AWS_KINESIS_SHARDS: '2',
    OPENEVENTS_AWS_FIREHOSE_DELIVERY_STREAM: 'infra-firehose',
    OPENEVENTS_AWS_FIREHOSE_COMPRESSION: 'UNCOMPRESSED',
    OPENEVENTS_AWS_LOGS_GROUP: '/openevents/infra-test',
    OPENEVENTS_AWS_S3_CACHE_DIR: cache,
    ...extra,
  };
}

interface PlanJson {
  plan: Array<{ action: string; resource: { kind: string; name: string }; changes: string[] }>;
}
interface StatusJson {
  inSync: boolean;
  resources: Array<{ kind: string; name: string; exists: boolean; drift: string[]; details: Record<string, unknown>; skipped?: boolean }>;
}

async function infra(args: string[], extra: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(['infra', ...args], { env: env(extra) });
}

async function status(extra: Record<string, string> = {}): Promise<StatusJson> {
  const run = await infra(['status', '--json'], extra);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as StatusJson;
}

async function bucketNames(): Promise<string[]> {
  return ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name!).sort();
}

describe('openevents infra against moto_server', { timeout: 600_000 }, () => {
  it('--dry-run prints the plan and creates nothing', async () => {
    const run = await infra(['up', '--dry-run', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const plan = (JSON.parse(run.stdout) as PlanJson).plan;
    expect(plan.map((c) => [c.action, c.resource.kind, c.resource.name])).toEqual([
      ['create', 'bucket', 'infra-lake'],
      ['create', 'website-bucket', 'infra-site'],
      ['create', 'log-group', '/openevents/infra-test'],
      ['create', 'kinesis-stream', 'infra-events'],
      ...ROLES.map((name) => ['create', 'iam-role', name]),
      ['create', 'firehose', 'infra-firehose'],
    ]);
    expect(await bucketNames()).not.toContain('infra-lake');
    expect((await status()).resources.every((r) => !r.exists)).toBe(true);
  });

  it('up creates every resource as configured; a second up changes nothing', async () => {
    const run = await infra(['up']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`${5 + ROLES.length} resource\\(s\\) changed`));

    // The lake bucket is private: every Block Public Access setting on
    const lakeBlock = await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'infra-lake' }));
    expect(lakeBlock.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    // The website bucket: ACLs blocked, a policy may make objects public, and one does: GetObject on dash/* only
    const siteBlock = await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'infra-site' }));
    expect(siteBlock.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false });
    expect((await s3.send(new GetBucketWebsiteCommand({ Bucket: 'infra-site' }))).IndexDocument?.Suffix).toBe('index.html');
    const policy = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: 'infra-site' }))).Policy ?? '{}') as { Statement: unknown[] };
    expect(policy.Statement).toEqual([{ Sid: 'OpenEventsPublicReport', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::infra-site/dash/*' }]);
    // The log group keeps records 30 days (the default), the stream has the configured 2 shards
    const logs = awsClient('cloudwatch_logs', CloudWatchLogsClient, { endpointUrl: moto().endpoint });
    const group = (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/openevents/infra-test' }))).logGroups?.[0];
    expect(group?.retentionInDays).toBe(30);
    const kinesis = awsClient('kinesis', KinesisClient, { endpointUrl: moto().endpoint });
    const stream = (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'infra-events' }))).StreamDescriptionSummary;
    expect([stream?.StreamStatus, stream?.OpenShardCount]).toEqual(['ACTIVE', 2]);
    // Firehose writes into the lake bucket under the lake's raw/ prefix (it appends YYYY/MM/DD/HH/ itself)
    const firehose = awsClient('firehose', FirehoseClient, { endpointUrl: moto().endpoint });
    const dest = (await firehose.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'infra-firehose' }))).DeliveryStreamDescription?.Destinations?.[0]
      ?.ExtendedS3DestinationDescription;
    expect([dest?.BucketARN, dest?.Prefix, dest?.RoleARN]).toEqual(['arn:aws:s3:::infra-lake', 'lake/raw/', 'arn:aws:iam::123456789012:role/openevents-firehose']);

    // A second run finds everything as configured
    const again = await infra(['up', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as PlanJson).plan.map((c) => c.action)).toEqual(Array(5 + ROLES.length).fill('none'));
    const now = await status();
    expect(now.inSync).toBe(true);
    expect(now.resources.find((r) => r.kind === 'website-bucket')?.details.website).toBe(`${moto().endpoint}/infra-site/dash/index.html`);
    logs.destroy();
    kinesis.destroy();
    firehose.destroy();
  });

  it('status shows what differs from the config, and up puts it right', async () => {
    // Given changes made behind the toolkit's back, and a config that now asks for one shard
    const logs = awsClient('cloudwatch_logs', CloudWatchLogsClient, { endpointUrl: moto().endpoint });
    await logs.send(new PutRetentionPolicyCommand({ logGroupName: '/openevents/infra-test', retentionInDays: 7 }));
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'infra-lake', PublicAccessBlockConfiguration: { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false } }));
    await s3.send(new DeleteBucketWebsiteCommand({ Bucket: 'infra-site' }));
    const oneShard = { OPENEVENTS_AWS_KINESIS_SHARDS: '1' };

    // Then status names each difference
    const before = await status(oneShard);
    expect(before.inSync).toBe(false);
    const drift = Object.fromEntries(before.resources.map((r) => [r.kind, r.drift]));
    expect(drift).toEqual({
      bucket: ['Block Public Access all off, want all on'],
      'website-bucket': ['website hosting is off'],
      'log-group': ['retention 7 days, want 30 days'],
      'kinesis-stream': ['2 shards open, want 1 shard'],
      'iam-role': [],
      firehose: [],
    });
    const text = await infra(['status'], oneShard);
    expect(text.stdout).toMatch(/differs\s+log-group "\/openevents\/infra-test" \(CloudWatch Logs telemetry\): retention 7 days, want 30 days/);

    // When up runs, it changes exactly those four, and then all is as configured
    const run = await infra(['up', '--json'], oneShard);
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as PlanJson).plan.map((c) => c.action)).toEqual(['update', 'update', 'update', 'update', ...ROLES.map(() => 'none'), 'none']);
    expect((await status(oneShard)).inSync).toBe(true);
    logs.destroy();
  });

  it('Firehose delivers into the lake the way the lake reads it: ls, etl and query see the records', async () => {
    // Given capture records put to the delivery stream, as the Firehose sink will (one NDJSON line per record)
    const lines = (await readFile(CAPTURE, 'utf8')).split('\n').filter((l) => l.startsWith('{'));
    const records = lines.slice(0, 300).filter((l) => {
      try {
        JSON.parse(l);
        return true;
      } catch {
        return false;
      }
    });
    const firehose = awsClient('firehose', FirehoseClient, { endpointUrl: moto().endpoint });
    await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: 'infra-firehose', Records: records.map((l) => ({ Data: Buffer.from(l + '\n') })) }));
    firehose.destroy();

    // Then the lake lists one raw hour (the arrival hour) with those records, and the ETL curates them
    const ls = await runCli(['lake', 'ls', '--json'], { env: env() });
    expect(ls.code, ls.stderr).toBe(0);
    const hours = JSON.parse(ls.stdout) as Array<{ hour: string; records: number; files: number }>;
    expect(hours).toHaveLength(1);
    expect(hours[0]!.records).toBe(records.length);
    expect(hours[0]!.hour).toBe(new Date().toISOString().slice(0, 13));
    const etl = await runCli(['etl', '--json'], { env: env() });
    expect(etl.code, etl.stderr).toBe(0);
    const query = await runCli(['query', '--format', 'json', 'SELECT count(DISTINCT event_id) AS n FROM events'], { env: env() });
    expect(query.code, query.stderr).toBe(0);
    const expected = new Set(records.map((l) => (JSON.parse(l) as { id: string }).id)).size;
    expect(JSON.parse(query.stdout)).toEqual([{ n: expected }]);
  });

  it('down refuses a non-empty bucket without --force and then removes nothing; with --force removes everything', async () => {
    const refused = await infra(['down']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: nothing changed: bucket "infra-lake" holds \d+ object\(s\)/);
    expect(refused.stderr).toMatch(/hint: pass --force/);
    expect((await status()).resources.filter((r) => !r.skipped).every((r) => r.exists)).toBe(true);

    const dry = await infra(['down', '--force', '--dry-run', '--json']);
    expect((JSON.parse(dry.stdout) as PlanJson).plan.map((c) => [c.action, c.resource.kind])).toEqual([
      ['delete', 'firehose'],
      ...ROLES.map(() => ['delete', 'iam-role']),
      ['delete', 'kinesis-stream'],
      ['delete', 'log-group'],
      ['delete', 'website-bucket'],
      ['delete', 'bucket'],
    ]);
    expect((await status()).resources.filter((r) => !r.skipped).every((r) => r.exists)).toBe(true);

    const forced = await infra(['down', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect((await status()).resources.every((r) => !r.exists)).toBe(true);
    expect(await bucketNames()).not.toEqual(expect.arrayContaining(['infra-lake']));
    const again = await infra(['down']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/nothing to do/);
  });
});

describe('infra up when AWS refuses a change', { timeout: 600_000 }, () => {
  it('names the resource, AWS\'s reason and what was done before it; a rerun picks up from there', async () => {
    const proxy = await startAwsProxy(moto().endpoint);
    proxy.intercept = (req) =>
      req.target?.endsWith('.CreateStream')
        ? { status: 400, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify({ __type: 'ValidationException', message: 'Shard count 2 exceeds the account limit of 1.' }) }
        : undefined;
    const own = { AWS_ENDPOINT_URL_KINESIS: proxy.endpoint, OPENEVENTS_LAKE: './lake', OPENEVENTS_AWS_REPORT_BUCKET: '', OPENEVENTS_AWS_FIREHOSE_DELIVERY_STREAM: '', OPENEVENTS_AWS_LOGS_GROUP: '/openevents/refused', OPENEVENTS_AWS_KINESIS_STREAM: 'refused' };
    try {
      const run = await infra(['up'], own);
      expect(run.code).toBe(1);
      expect(run.stderr.trim().split('\n')).toEqual([
        'error: AWS refused to create kinesis-stream "refused": Shard count 2 exceeds the account limit of 1.; done before it: create log-group "/openevents/refused"',
        'hint: check the config values it names, then run `openevents infra up` again (what is done is kept)',
      ]);
      proxy.intercept = undefined;
      const again = await infra(['up', '--json'], own);
      expect((JSON.parse(again.stdout) as PlanJson).plan.filter((c) => c.action !== 'skip').map((c) => [c.action, c.resource.kind])).toEqual([
        ['none', 'log-group'],
        ['create', 'kinesis-stream'],
      ]);
      await infra(['down'], own);
    } finally {
      await proxy.close();
    }
  });
});

describe('report publish where S3 Block Public Access refuses the policy (as AWS does; emulators do not)', { timeout: 600_000 }, () => {
  let proxy: AwsProxy;
  let lake: string;

  beforeAll(async () => {
    // A proxy that enforces Block Public Access on PutBucketPolicy the way S3 does: refused while
    // the bucket's block has BlockPublicPolicy on, or has no block (new buckets get one, all on).
    proxy = await startAwsProxy(moto().endpoint);
    proxy.intercept = async (req) => {
      const m = /^\/([^/?]+)\/?\?policy(?:=|&|$)/.exec(req.url);
      if (req.method !== 'PUT' || !m) return undefined;
      let blocked = true;
      try {
        const b = (await s3.send(new GetPublicAccessBlockCommand({ Bucket: m[1] }))).PublicAccessBlockConfiguration;
        blocked = b?.BlockPublicPolicy !== false;
      } catch (error) {
        if (!(error instanceof S3ServiceException)) throw error;
      }
      if (!blocked) return undefined;
      return {
        status: 403,
        headers: { 'content-type': 'application/xml' },
        body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>User is not authorized to perform: s3:PutBucketPolicy because public policies are blocked by the BlockPublicPolicy block public access setting.</Message></Error>',
      };
    };
    lake = await mkdtemp(path.join(os.tmpdir(), 'oe-bpa-lake-'));
    await new LocalStore(lake).put('reports/2026-11-28T100000Z.html', '<!doctype html><title>r</title>');
    await s3.send(new CreateBucketCommand({ Bucket: 'bpa-site' }));
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'bpa-site', PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } }));
  });
  afterAll(async () => {
    await proxy?.close();
    await rm(lake, { recursive: true, force: true });
  });

  it('says what blocks it and how to fix it; after infra up it publishes', async () => {
    const viaProxy = { AWS_ENDPOINT_URL_S3: proxy.endpoint, OPENEVENTS_AWS_REPORT_BUCKET: 'bpa-site', OPENEVENTS_LAKE: lake, OPENEVENTS_AWS_FIREHOSE_DELIVERY_STREAM: '' };
    const refused = await runCli(['report', 'publish'], { env: env(viaProxy) });
    expect(refused.code).toBe(1);
    const [error, hint] = refused.stderr.trim().split('\n');
    expect(error).toBe('error: S3 Block Public Access on bucket "bpa-site" refused the public-read policy of the report (BlockPublicPolicy is on).');
    expect(hint).toMatch(/^hint: Run `openevents infra up` \(it allows only that policy on the report bucket; ACLs stay blocked\), or: aws s3api put-public-access-block --bucket bpa-site /);

    const up = await runCli(['infra', 'up'], { env: env(viaProxy) });
    expect(up.code, up.stderr).toBe(0);
    const published = await runCli(['report', 'publish'], { env: env(viaProxy) });
    expect(published.code, published.stderr).toBe(0);
    expect(published.stdout.split('\n')[0]).toBe(`${proxy.endpoint}/bpa-site/dash/index.html`);
    const block = (await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'bpa-site' }))).PublicAccessBlockConfiguration;
    expect(block).toEqual({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false });
    await runCli(['infra', 'down', '--force'], { env: env(viaProxy) });
  });
});
