import {
  GetBucketPolicyCommand,
  GetBucketWebsiteCommand,
  PutBucketPolicyCommand,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import { UserError, errorMessage } from '../errors.ts';
import type { ObjectStore } from '../lake/store.ts';
import { HTML_CONTENT_TYPE, newestReportKey } from './build.ts';

/** Cache-Control of a timestamped report: its content never changes. */
export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
/** Cache-Control of index.html: always revalidate, it moves to each new report. */
export const INDEX_CACHE = 'no-cache, max-age=0';
/** The Sid of the bucket-policy statement publish owns (replaced on each publish, others kept). */
export const POLICY_SID = 'OpenEventsPublicReport';

export interface PublishReportOptions {
  bucket: string;
  /** Key prefix of the report in the bucket, e.g. 'reports/' ('' for the bucket root). */
  prefix?: string;
  /** An S3 client from src/aws/clients.ts. */
  client: S3Client;
  /** The endpoint override in force (an emulator), if any: the URL printed is then the emulator's. */
  endpoint?: string;
}

export interface PublishReportResult {
  bucket: string;
  prefix: string;
  /** Keys written in the bucket. */
  reportKey: string;
  indexKey: string;
  /** The website URL of the report's index.html. */
  url: string;
  /** True when this publish turned on website hosting (false: it was already on). */
  websiteConfigured: boolean;
  /** The object ARN pattern made publicly readable. */
  publicResource: string;
}

/** 'reports' → 'reports/', '/a/b/' → 'a/b/', '' → ''. */
export function normalizePrefix(prefix: string | undefined): string {
  const p = (prefix ?? '').replace(/^\/+/, '');
  return p === '' || p.endsWith('/') ? p : `${p}/`;
}

/** The S3 website endpoint of a bucket (some regions use '-', the newer ones '.'). */
export function websiteUrl(bucket: string, region: string, prefix: string, endpoint?: string): string {
  if (endpoint) return `${endpoint.replace(/\/+$/, '')}/${bucket}/${prefix}index.html`;
  const dash = new Set(['us-east-1', 'us-west-1', 'us-west-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-northeast-1', 'eu-west-1', 'sa-east-1', 'us-gov-west-1']);
  return `http://${bucket}.s3-website${dash.has(region) ? '-' : '.'}${region}.amazonaws.com/${prefix}`;
}

/**
 * Publishes the lake's newest report to an S3 website bucket: uploads it (immutable) and
 * index.html (no-cache) under `prefix`, turns on website hosting if it is off, allows public
 * bucket policies (ACLs stay blocked) and grants anonymous s3:GetObject on `prefix*` only.
 */
export async function publishReport(store: ObjectStore, options: PublishReportOptions): Promise<PublishReportResult> {
  const { bucket, client } = options;
  const prefix = normalizePrefix(options.prefix);
  const source = await newestReportKey(store);
  if (!source) {
    throw new UserError(`No report has been built in ${store.url} yet.`, { hint: `Run: openevents report build --lake ${store.url}` });
  }
  const page = await store.get(source);
  if (!page) throw new UserError(`The report ${source} vanished from ${store.url} while publishing.`, { hint: 'Build it again and retry.' });
  const name = source.slice(source.lastIndexOf('/') + 1);
  const reportKey = `${prefix}${name}`;
  const indexKey = `${prefix}index.html`;
  const publicResource = `arn:aws:s3:::${bucket}/${prefix}*`;
  let websiteConfigured = false;

  await s3Call(bucket, async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: reportKey, Body: page, ContentType: HTML_CONTENT_TYPE, CacheControl: IMMUTABLE_CACHE }));
    // index.html last among the objects, so it never points readers at a page not yet uploaded.
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: indexKey, Body: page, ContentType: HTML_CONTENT_TYPE, CacheControl: INDEX_CACHE }));
    if (!(await hasWebsite(client, bucket))) {
      await client.send(new PutBucketWebsiteCommand({ Bucket: bucket, WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } }));
      websiteConfigured = true;
    }
    // A public policy is refused while BlockPublicPolicy is on: lift only the policy blocks.
    await client.send(
      new PutPublicAccessBlockCommand({
        Bucket: bucket,
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false },
      }),
    );
    const policy = await currentPolicy(client, bucket);
    policy.Statement = [
      ...policy.Statement.filter((s) => (s as { Sid?: unknown }).Sid !== POLICY_SID),
      { Sid: POLICY_SID, Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: publicResource },
    ];
    await client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
  });

  const region = await client.config.region();
  return { bucket, prefix, reportKey, indexKey, url: websiteUrl(bucket, region, prefix, options.endpoint), websiteConfigured, publicResource };
}

async function hasWebsite(client: S3Client, bucket: string): Promise<boolean> {
  try {
    await client.send(new GetBucketWebsiteCommand({ Bucket: bucket }));
    return true;
  } catch (error) {
    if (error instanceof S3ServiceException && error.name === 'NoSuchWebsiteConfiguration') return false;
    throw error;
  }
}

interface Policy {
  Version: string;
  Statement: unknown[];
}

async function currentPolicy(client: S3Client, bucket: string): Promise<Policy> {
  try {
    const out = await client.send(new GetBucketPolicyCommand({ Bucket: bucket }));
    const parsed = JSON.parse(out.Policy ?? '{}') as Partial<Policy> & { Statement?: unknown };
    const statements = Array.isArray(parsed.Statement) ? parsed.Statement : parsed.Statement ? [parsed.Statement] : [];
    return { Version: parsed.Version ?? '2012-10-17', Statement: statements };
  } catch (error) {
    if (error instanceof S3ServiceException && error.name === 'NoSuchBucketPolicy') return { Version: '2012-10-17', Statement: [] };
    throw error;
  }
}

/** Runs S3 calls, turning the errors a user can fix into UserErrors with a hint. */
async function s3Call<T>(bucket: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toUserError(error, bucket) ?? error;
  }
}

/** The UserError for an S3 failure the user can fix, or undefined for anything else. */
export function toUserError(error: unknown, bucket: string): UserError | undefined {
  const name = (error as { name?: unknown })?.name;
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if (name === 'CredentialsProviderError' || (!(error instanceof S3ServiceException) && /credential/i.test(errorMessage(error)))) {
    return new UserError('No AWS credentials were found to publish the report.', {
      hint: 'Set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an instance role is available.',
      cause: error,
    });
  }
  if (name === 'NoSuchBucket') {
    return new UserError(`The bucket "${bucket}" does not exist.`, {
      hint: `Create it first (aws s3 mb s3://${bucket}) or pass another --bucket.`,
      cause: error,
    });
  }
  if (name === 'AccessDenied' || name === 'AllAccessDisabled' || status === 403) {
    return new UserError(`Access to the bucket "${bucket}" was denied: ${errorMessage(error)}`, {
      hint: 'The credentials need s3:PutObject, s3:GetBucketWebsite, s3:PutBucketWebsite, s3:PutBucketPublicAccessBlock, s3:GetBucketPolicy and s3:PutBucketPolicy on it; an account-level Block Public Access setting also refuses public policies.',
      cause: error,
    });
  }
  if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'ExpiredToken') {
    return new UserError(`AWS rejected the credentials: ${errorMessage(error)}`, { hint: 'Check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or refresh the session.', cause: error });
  }
  return undefined;
}
