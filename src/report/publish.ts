import {
  GetBucketPolicyCommand,
  GetBucketWebsiteCommand,
  GetPublicAccessBlockCommand,
  PutBucketPolicyCommand,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import { awsErrorKind } from '../aws/errors.ts';
import { UserError } from '../errors.ts';
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
 * index.html (no-cache) under `prefix`, turns on website hosting if it is off, and makes sure
 * the bucket policy grants anonymous s3:GetObject on `prefix*` only (other statements kept).
 * It never changes the bucket's Block Public Access setting (`openevents infra up` sets it so
 * that only this policy is allowed); where the block refuses the policy it says so and how to fix it.
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
  const statement = publicReadStatement(bucket, prefix);

  await client.send(new PutObjectCommand({ Bucket: bucket, Key: reportKey, Body: page, ContentType: HTML_CONTENT_TYPE, CacheControl: IMMUTABLE_CACHE }));
  // index.html last among the objects, so it never points readers at a page not yet uploaded.
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: indexKey, Body: page, ContentType: HTML_CONTENT_TYPE, CacheControl: INDEX_CACHE }));
  const websiteConfigured = !(await hasWebsite(client, bucket));
  if (websiteConfigured) await client.send(new PutBucketWebsiteCommand({ Bucket: bucket, WebsiteConfiguration: WEBSITE_CONFIGURATION }));
  const current = await currentPolicy(client, bucket);
  const wanted = withStatement(current, statement);
  if (JSON.stringify(wanted) !== JSON.stringify(current)) {
    try {
      await client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(wanted) }));
    } catch (error) {
      if (awsErrorKind(error) !== 'access-denied') throw error;
      throw await blockedPolicyError(client, bucket, error);
    }
  }
  const region = await client.config.region();
  return { bucket, prefix, reportKey, indexKey, url: websiteUrl(bucket, region, prefix, options.endpoint), websiteConfigured, publicResource: statement.Resource };
}

/** The website configuration of the report bucket. */
export const WEBSITE_CONFIGURATION = { IndexDocument: { Suffix: 'index.html' } };

/** The public-read part of a bucket policy: anonymous s3:GetObject on the report prefix, nothing else. */
export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Principal: '*';
  Action: 's3:GetObject';
  Resource: string;
}

export interface BucketPolicy {
  Version: string;
  Statement: unknown[];
}

/** The one statement that makes the report public (publish and `infra up` both write it). */
export function publicReadStatement(bucket: string, prefix: string): PolicyStatement {
  return { Sid: POLICY_SID, Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/${normalizePrefix(prefix)}*` };
}

/** The policy with our statement in place of any earlier version of it; other statements are kept. */
export function withStatement(policy: BucketPolicy, statement: PolicyStatement): BucketPolicy {
  return { Version: policy.Version, Statement: [...policy.Statement.filter((s) => (s as { Sid?: unknown }).Sid !== POLICY_SID), statement] };
}

/** The Block Public Access setting that lets only a bucket policy make objects public: ACLs stay blocked. */
export const POLICY_ONLY_PUBLIC_ACCESS = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false } as const;

async function hasWebsite(client: S3Client, bucket: string): Promise<boolean> {
  try {
    await client.send(new GetBucketWebsiteCommand({ Bucket: bucket }));
    return true;
  } catch (error) {
    if (error instanceof S3ServiceException && error.name === 'NoSuchWebsiteConfiguration') return false;
    throw error;
  }
}

/** The bucket's policy (an empty one when it has none). */
export async function currentPolicy(client: S3Client, bucket: string): Promise<BucketPolicy> {
  try {
    const out = await client.send(new GetBucketPolicyCommand({ Bucket: bucket }));
    const parsed = JSON.parse(out.Policy ?? '{}') as Partial<BucketPolicy> & { Statement?: unknown };
    const statements = Array.isArray(parsed.Statement) ? parsed.Statement : parsed.Statement ? [parsed.Statement] : [];
    return { Version: parsed.Version ?? '2012-10-17', Statement: statements };
  } catch (error) {
    if (error instanceof S3ServiceException && error.name === 'NoSuchBucketPolicy') return { Version: '2012-10-17', Statement: [] };
    throw error;
  }
}

/**
 * Why a public policy was refused: S3 Block Public Access on the bucket (new buckets have it on
 * since April 2023) or on the account, and what to do about it.
 */
async function blockedPolicyError(client: S3Client, bucket: string, cause: unknown): Promise<UserError> {
  let block: Record<string, boolean | undefined> | undefined;
  try {
    block = (await client.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration as Record<string, boolean | undefined> | undefined;
  } catch (error) {
    // No bucket-level block, or no right to read it: say what we know.
    if (!(error instanceof S3ServiceException && error.name === 'NoSuchPublicAccessBlockConfiguration') && awsErrorKind(error) !== 'access-denied') throw error;
  }
  const fix = `aws s3api put-public-access-block --bucket ${bucket} --public-access-block-configuration ${Object.entries(POLICY_ONLY_PUBLIC_ACCESS)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}`;
  if (block?.BlockPublicPolicy || block?.RestrictPublicBuckets) {
    return new UserError(`S3 Block Public Access on bucket "${bucket}" refused the public-read policy of the report (BlockPublicPolicy is on).`, {
      hint: `Run \`openevents infra up\` (it allows only that policy on the report bucket; ACLs stay blocked), or: ${fix}`,
      cause,
    });
  }
  return new UserError(`Putting the public-read policy on bucket "${bucket}" was denied.`, {
    hint: `Either the credentials lack s3:PutBucketPolicy on it, or Block Public Access is on for the whole account (aws s3control get-public-access-block --account-id <id>); the bucket itself ${block ? 'allows public policies' : 'has no Block Public Access setting that we could read'}.`,
    cause,
  });
}
