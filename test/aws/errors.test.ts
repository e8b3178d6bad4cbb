import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, ListBucketsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClient, s3Client } from '../../src/aws/clients.ts';
import { AwsUserError, awsErrorKind } from '../../src/aws/errors.ts';
import { startAwsProxy, type AwsProxy } from '../helpers/aws-proxy.ts';
import { expectUserError, runCli } from '../helpers/cli.ts';
import { freePort, useMoto } from '../helpers/moto.ts';
import { CAPTURE } from '../helpers/fixtures.ts';

const moto = useMoto();
let s3: S3Client;
let proxy: AwsProxy;
let cache: string;

beforeAll(async () => {
  s3 = s3Client({ endpointUrl: moto().endpoint });
  await s3.send(new CreateBucketCommand({ Bucket: 'lake-ok' }));
  proxy = await startAwsProxy(moto().endpoint);
  cache = await mkdtemp(path.join(os.tmpdir(), 'oe-errors-cache-'));
});
afterAll(async () => {
  await proxy?.close();
  await rm(cache, { recursive: true, force: true });
});

function env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, AWS_ENDPOINT_URL: moto().endpoint, OPENEVENTS_AWS_S3_CACHE_DIR: cache, OPENEVENTS_PROFILE: 'local', ...extra };
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete out[k];
  return out;
}

/** Runs the CLI and checks the shape every user-fixable failure has: exit 1, one error line, one hint line, no stack. */
async function fails(args: string[], extra: Record<string, string | undefined> = {}): Promise<{ error: string; hint: string }> {
  return expectUserError(await runCli(args, { env: env(extra) }));
}

async function objectsIn(bucket: string): Promise<string[]> {
  return ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!);
}

/** An S3 error answer as S3 sends it. */
function s3Error(status: number, code: string, message: string, headers: Record<string, string> = {}) {
  return {
    status,
    headers: { 'content-type': 'application/xml', ...headers },
    body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>R</RequestId></Error>`,
  };
}

describe('AWS failures a user can fix: one line naming the resource, a hint, exit 1, nothing written', { timeout: 600_000 }, () => {
  it('a bucket that does not exist', async () => {
    const { error, hint } = await fails(['lake', 'ls', '--lake', 's3://no-such-lake/data']);
    expect(error).toBe('error: the bucket "no-such-lake" does not exist');
    expect(hint).toBe('hint: create it with `openevents infra up`, or check the name');
    // The ETL and an import fail the same way before writing anything, here or in the cache
    const buckets = (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
    expect((await fails(['etl', '--lake', 's3://no-such-lake/data'])).error).toBe('error: the bucket "no-such-lake" does not exist');
    expect((await fails(['lake', 'import', '--lake', 's3://no-such-lake/data', CAPTURE])).error).toBe('error: the bucket "no-such-lake" does not exist');
    expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual(buckets);
    expect(await readdir(cache)).toEqual([]);
  });

  it('no credentials', async () => {
    const none = { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_PROFILE: undefined, AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
    const { error, hint } = await fails(['lake', 'import', '--lake', 's3://lake-ok/imports', CAPTURE], none);
    expect(error).toBe('error: no AWS credentials were found for ListObjectsV2 on s3://lake-ok/imports/');
    expect(hint).toMatch(/^hint: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    expect(await objectsIn('lake-ok')).toEqual([]);
  });

  it('an expired session token', async () => {
    proxy.intercept = () => s3Error(400, 'ExpiredToken', 'The provided token has expired.');
    try {
      const { error, hint } = await fails(['stats', '--lake', 's3://lake-ok/lake'], { AWS_ENDPOINT_URL_S3: proxy.endpoint });
      expect(error).toBe('error: the AWS credentials have expired (ListObjectsV2 on s3://lake-ok/lake/)');
      expect(hint).toMatch(/refresh them/);
    } finally {
      proxy.intercept = undefined;
    }
  });

  it('access denied names the IAM action that is missing', async () => {
    proxy.intercept = (req) => (req.method === 'GET' && req.url.includes('list-type=2') ? s3Error(403, 'AccessDenied', 'Access Denied') : undefined);
    try {
      const { error, hint } = await fails(['lake', 'ls', '--lake', 's3://lake-ok/lake'], { AWS_ENDPOINT_URL_S3: proxy.endpoint });
      expect(error).toBe('error: access denied: ListObjectsV2 on s3://lake-ok/lake/');
      expect(hint).toMatch(/^hint: the credentials need s3:ListBucket on it/);
    } finally {
      proxy.intercept = undefined;
    }
  });

  it('the wrong region: S3 answers with the bucket\'s region, and the hint says which to set', async () => {
    // What S3 answers a client of another region: 301 PermanentRedirect with x-amz-bucket-region
    proxy.intercept = () => s3Error(301, 'PermanentRedirect', 'The bucket you are attempting to access must be addressed using the specified endpoint.', { 'x-amz-bucket-region': 'eu-west-1' });
    try {
      const { error, hint } = await fails(['lake', 'ls', '--lake', 's3://lake-ok/lake'], { AWS_ENDPOINT_URL_S3: proxy.endpoint, OPENEVENTS_AWS_REGION: 'us-east-1' });
      expect(error).toBe('error: s3://lake-ok/lake/ is in region eu-west-1, not us-east-1');
      expect(hint).toBe('hint: set aws.region (OPENEVENTS_AWS_REGION) to eu-west-1');
    } finally {
      proxy.intercept = undefined;
    }
  });

  it('a Kinesis stream that does not exist (or lives in another region)', async () => {
    for (const region of ['us-east-1', 'eu-west-1']) {
      const kinesis = awsClient('kinesis', KinesisClient, { endpointUrl: moto().endpoint, region });
      const error = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'nope' })).catch((e: unknown) => e);
      kinesis.destroy();
      expect(error).toBeInstanceOf(AwsUserError);
      expect((error as AwsUserError).message).toBe(`the Kinesis stream "nope" does not exist in ${region}`);
      expect((error as AwsUserError).hint).toMatch(/aws\.region/);
      expect(awsErrorKind(error)).toBe('not-found');
      expect(((error as AwsUserError).cause as Error).name).toBe('ResourceNotFoundException');
    }
  });

  it('an endpoint that cannot be reached, without showing credentials in its URL', async () => {
    const port = await freePort();
    const { error, hint } = await fails(['lake', 'ls', '--lake', 's3://lake-ok/lake'], { AWS_ENDPOINT_URL: `http://operator:hunter2secret@127.0.0.1:${port}` });
    expect(error).toBe(`error: cannot reach S3 at http://***@127.0.0.1:${port}/ (ECONNREFUSED) for ListObjectsV2 on s3://lake-ok/lake/`);
    expect(hint).toMatch(/aws\.endpointUrl/);
  });
});
