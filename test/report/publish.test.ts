import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  GetBucketPolicyCommand,
  GetBucketWebsiteCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../src/aws/clients.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { S3Store } from '../../src/lake/s3-store.ts';
import { normalizePrefix, publishReport, websiteUrl } from '../../src/report/publish.ts';
import { runCli } from '../helpers/cli.ts';
import { useMoto } from '../helpers/moto.ts';
import { removeLake, synthesizeCuratedLake } from '../helpers/report-lake.ts';
import { describeWith } from '../helpers/requires.ts';

const moto = useMoto();

describeWith(['venv'], 'report publish against moto_server', () => {
  let s3: S3Client;
  let root: string;
  let env: NodeJS.ProcessEnv;
  const bucket = 'openevents-site';
  const older = '<!doctype html><title>old</title>';
  const newest = '<!doctype html><title>new</title><p>&lt;script&gt;</p>';

  beforeAll(async () => {
    env = { ...process.env };
    s3 = s3Client({ endpointUrl: moto().endpoint, env });
    // Given a lake with two built reports, and a bucket whose policy already grants something else
    root = await mkdtemp(path.join(os.tmpdir(), 'oe-report-publish-'));
    const store = new LocalStore(root);
    await store.put('reports/2026-11-27T100000Z.html', older);
    await store.put('reports/2026-11-28T100000Z.html', newest);
    await store.put('reports/index.html', newest);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Sid: 'KeepMe', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/private/*` }],
        }),
      }),
    );
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('uploads the newest report and index.html, configures the website and opens only the prefix, leaving Block Public Access to infra', async () => {
    // When the report is published with the real command
    const run = await runCli(['report', 'publish', '--lake', root, '--bucket', bucket, '--prefix', 'dash'], { env });
    // (the SDK may warn about the Node version on stderr; nothing else may appear there)
    expect(run.stderr).not.toMatch(/error|hint/i);
    expect(run.code).toBe(0);
    // Then it prints the emulator's URL of the page
    expect(run.stdout.split('\n')[0]).toBe(`${moto().endpoint}/${bucket}/dash/index.html`);

    // and exactly the newest report and index.html are in the bucket, with their headers
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(['dash/2026-11-28T100000Z.html', 'dash/index.html']);
    const report = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dash/2026-11-28T100000Z.html' }));
    expect(report.ContentType).toBe('text/html; charset=utf-8');
    expect(report.CacheControl).toBe('public, max-age=31536000, immutable');
    const index = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'dash/index.html' }));
    expect(index.ContentType).toBe('text/html; charset=utf-8');
    expect(index.CacheControl).toBe('no-cache, max-age=0');
    const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dash/index.html' }))).Body!.transformToString();
    expect(body).toBe(newest);

    // and the bucket is a website serving index.html
    const website = await s3.send(new GetBucketWebsiteCommand({ Bucket: bucket }));
    expect(website.IndexDocument?.Suffix).toBe('index.html');

    // and the bucket's Block Public Access setting is not publish's to change (infra up sets it)
    await expect(s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).rejects.toMatchObject({ name: 'NoSuchPublicAccessBlockConfiguration' });

    // and the policy grants anonymous GetObject on the prefix only, keeping the existing statement
    const policy = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? '{}');
    expect(policy.Statement).toEqual([
      { Sid: 'KeepMe', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/private/*` },
      { Sid: 'OpenEventsPublicReport', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/dash/*` },
    ]);
  });

  it('publishing again replaces its own policy statement instead of adding another', async () => {
    const result = await publishReport(new LocalStore(root), { bucket, prefix: 'dash/', client: s3, endpoint: moto().endpoint });
    expect(result.websiteConfigured).toBe(false);
    const policy = JSON.parse((await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? '{}');
    expect(policy.Statement.filter((s: { Sid?: string }) => s.Sid === 'OpenEventsPublicReport')).toHaveLength(1);
    expect(policy.Statement).toHaveLength(2);
  });

  it('says the bucket does not exist, with a hint', async () => {
    const attempt = publishReport(new LocalStore(root), { bucket: 'no-such-bucket-here', client: s3 });
    await expect(attempt).rejects.toMatchObject({ name: 'AwsUserError', message: 'the bucket "no-such-bucket-here" does not exist', hint: expect.stringContaining('openevents infra up') });
  });

  it('says there are no credentials, with a hint, and exits 1', async () => {
    const bare: NodeJS.ProcessEnv = { ...env, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
    delete bare.AWS_ACCESS_KEY_ID;
    delete bare.AWS_SECRET_ACCESS_KEY;
    delete bare.AWS_PROFILE;
    const run = await runCli(['report', 'publish', '--lake', root, '--bucket', bucket], { env: bare });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error: no AWS credentials were found');
    expect(run.stderr).toContain('hint: set AWS_PROFILE');
  });

  it('says there is nothing to publish before a report is built', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'oe-report-empty-'));
    try {
      const attempt = publishReport(new LocalStore(empty), { bucket, client: s3 });
      await expect(attempt).rejects.toMatchObject({ name: 'UserError', message: expect.stringContaining('No report has been built'), hint: expect.stringContaining('openevents report build') });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('with the local profile and no bucket, prints the report file instead', async () => {
    const run = await runCli(['report', 'publish', '--lake', root], { env: { ...env, OPENEVENTS_PROFILE: 'local' } });
    expect(run.code).toBe(0);
    const file = run.stdout.trim();
    expect(file).toBe(path.join(root, 'reports', '2026-11-28T100000Z.html'));
    expect(await readFile(file, 'utf8')).toBe(newest);
  });
});

describeWith(['venv'], 'report build on an s3:// lake', () => {
  let local: string;

  afterAll(async () => {
    await removeLake(new S3Store('lake-bucket', 'lake', s3Client({ endpointUrl: moto().endpoint })), local);
  });

  it('reads the curated tables from S3 and writes the report and index.html back through the store', async () => {
    // Given a small curated lake uploaded to s3://lake-bucket/lake/
    local = await mkdtemp(path.join(os.tmpdir(), 'oe-report-s3lake-'));
    await synthesizeCuratedLake(local, { events: 400, hours: 6 });
    const s3 = s3Client({ endpointUrl: moto().endpoint });
    await s3.send(new CreateBucketCommand({ Bucket: 'lake-bucket' }));
    const lake = new S3Store('lake-bucket', 'lake', s3);
    for (const file of await readdir(local, { recursive: true, withFileTypes: true })) {
      if (!file.isFile()) continue;
      const full = path.join(file.parentPath, file.name);
      await lake.put(path.relative(local, full).split(path.sep).join('/'), await readFile(full));
    }
    // When the report is built with the real command
    const run = await runCli(['report', 'build', '--lake', 's3://lake-bucket/lake', '--json'], { env: { ...process.env } });
    expect(run.code, run.stderr).toBe(0);
    const built = JSON.parse(run.stdout) as { location: string; key: string; indexLocation: string; bytes: number };
    // Then both objects are in the lake's bucket, as HTML, and are the same page
    expect(built.location).toBe(`s3://lake-bucket/lake/${built.key}`);
    expect(built.indexLocation).toBe('s3://lake-bucket/lake/reports/index.html');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'lake-bucket', Key: `lake/${built.key}` }));
    expect(head.ContentType).toBe('text/html; charset=utf-8');
    expect(head.ContentLength).toBe(built.bytes);
    const page = await (await s3.send(new GetObjectCommand({ Bucket: 'lake-bucket', Key: 'lake/reports/index.html' }))).Body!.transformToString();
    expect(page).toContain('<span class="value">400</span>'); // unique events
    expect(page).toContain('Covering <strong><time datetime="2015-03-08T00:00Z">');
  });
});

describe('website URLs and prefixes', () => {
  it('uses the region-specific S3 website endpoint', () => {
    expect(websiteUrl('b', 'us-east-1', 'reports/')).toBe('http://b.s3-website-us-east-1.amazonaws.com/reports/');
    expect(websiteUrl('b', 'eu-central-1', '')).toBe('http://b.s3-website.eu-central-1.amazonaws.com/');
  });
  it('normalizes prefixes to "" or a folder', () => {
    expect(normalizePrefix(undefined)).toBe('');
    expect(normalizePrefix('/reports')).toBe('reports/');
    expect(normalizePrefix('a/b/')).toBe('a/b/');
  });
});
