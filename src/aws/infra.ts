import {
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DeleteRetentionPolicyCommand,
  DescribeLogGroupsCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateDeliveryStreamCommand,
  DeleteDeliveryStreamCommand,
  DescribeDeliveryStreamCommand,
  UpdateDestinationCommand,
  type ExtendedS3DestinationDescription,
} from '@aws-sdk/client-firehose';
import { CreateStreamCommand, DeleteStreamCommand, DescribeStreamSummaryCommand, UpdateShardCountCommand } from '@aws-sdk/client-kinesis';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetBucketWebsiteCommand,
  GetPublicAccessBlockCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutBucketWebsiteCommand,
  PutPublicAccessBlockCommand,
  S3ServiceException,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  type BucketLocationConstraint,
  type PublicAccessBlockConfiguration,
  type S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { Config } from '../config/schema.ts';
import { UserError, errorMessage } from '../errors.ts';
import { parseS3Url } from '../lake/s3-store.ts';
import { RAW } from '../lake/layout.ts';
import {
  POLICY_ONLY_PUBLIC_ACCESS,
  WEBSITE_CONFIGURATION,
  currentPolicy,
  normalizePrefix,
  publicReadStatement,
  websiteUrl,
  withStatement,
} from '../report/publish.ts';
import type { AwsClients } from './clients.ts';
import { isAwsNotFound } from './errors.ts';
import { iamResources, iamSpec, type IamSpec } from './iam.ts';

/**
 * `openevents infra up|status|down`: the AWS resources the aws profile uses, made to match the
 * config — idempotently, like a small Terraform with one fixed module. Each resource can say
 * what exists and how it differs from the config (`inspect`), and plan the steps that make it
 * match (`up`) or remove it (`down`). A plan is computed in full (read-only calls) before
 * anything changes, so `--dry-run` prints exactly what would happen, and a refusal (a
 * non-empty bucket without --force) stops the whole run before any change.
 *
 * Order: buckets, log group, Kinesis stream, then Firehose (it writes into the lake bucket with
 * a role). Issue 12's IAM roles and instance profiles slot in as more `InfraResource`s before
 * Firehose (see `infraResources`); the Firehose role's name is fixed (`FIREHOSE_ROLE_NAME`) so
 * the role resource and the delivery stream agree on it without passing values around.
 */

/** What the config asks for. */
export interface InfraSpec {
  region: string;
  /** The lake bucket, when the lake is s3://. */
  lake?: { bucket: string; prefix: string };
  /** The report website bucket, when aws.report.bucket is set. */
  report?: { bucket: string; prefix: string };
  kinesis: { stream: string; shards: number };
  /** The Firehose delivery stream, when aws.firehose.deliveryStream is set. */
  firehose?: { name: string; roleArn: string; bufferSeconds: number; bufferMiB: number; compression: 'GZIP' | 'UNCOMPRESSED' };
  logs: { group: string; retentionDays: number };
  /** The IAM roles and instance profiles (src/aws/iam.ts). */
  iam?: IamSpec;
}

/** One resource as it is, next to the config. */
export interface ResourceStatus {
  /** 'bucket', 'website-bucket', 'log-group', 'kinesis-stream', 'firehose' (later: 'iam-role', …). */
  kind: string;
  name: string;
  /** What it is for, as shown to the operator. */
  role: string;
  exists: boolean;
  /** Not asked for by the config: `reason` says why (nothing is created or deleted). */
  skipped?: boolean;
  reason?: string;
  /** Live facts: state, shard count, website URL, object count, … */
  details: Record<string, unknown>;
  /** How it differs from the config, one phrase each; empty when it matches (or does not exist). */
  drift: string[];
}

export type InfraAction = 'create' | 'update' | 'delete' | 'none' | 'skip' | 'refuse';

/** One step of a plan. */
export interface PlannedChange {
  resource: ResourceStatus;
  action: InfraAction;
  /** What will be done, one phrase each. */
  changes: string[];
  /** For 'refuse': why, and how to go ahead. */
  reason?: string;
  /** Makes the change (absent for none/skip/refuse). */
  apply?: () => Promise<void>;
}

/** One piece of infrastructure. */
export interface InfraResource {
  readonly kind: string;
  readonly name: string;
  readonly role: string;
  inspect(): Promise<ResourceStatus>;
  up(status: ResourceStatus): PlannedChange;
  down(status: ResourceStatus, options: { force: boolean }): PlannedChange;
}

/** The role Firehose assumes to write the lake bucket when aws.firehose.roleArn is empty. */
export const FIREHOSE_ROLE_NAME = 'openevents-firehose';

/** The Block Public Access setting of a private bucket (the lake): everything blocked. */
export const ALL_PUBLIC_ACCESS_BLOCKED = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } as const;

/** The spec of a config; a config that cannot be provisioned is a UserError. */
export function infraSpec(config: Config, region: string): InfraSpec {
  const lake = config.lake.startsWith('s3://') ? parseS3Url(config.lake) : undefined;
  const report = config.aws.report.bucket ? { bucket: config.aws.report.bucket, prefix: normalizePrefix(config.aws.report.prefix) } : undefined;
  if (lake && report && lake.bucket === report.bucket) {
    throw new UserError(`the report bucket "${report.bucket}" is the lake bucket`, {
      hint: 'use a bucket of its own for the website (aws.report.bucket): the lake stays private, the website bucket has a public prefix',
    });
  }
  const f = config.aws.firehose;
  if (f.deliveryStream && !lake) {
    throw new UserError(`the Firehose delivery stream "${f.deliveryStream}" needs an s3:// lake to deliver to; the lake is ${config.lake}`, {
      hint: 'set lake to s3://bucket/prefix (OPENEVENTS_LAKE), or leave aws.firehose.deliveryStream empty',
    });
  }
  return {
    region,
    ...(lake ? { lake: { bucket: lake.bucket, prefix: normalizePrefix(lake.prefix) } } : {}),
    ...(report ? { report } : {}),
    kinesis: { stream: config.aws.kinesis.stream, shards: config.aws.kinesis.shards },
    ...(f.deliveryStream ? { firehose: { name: f.deliveryStream, roleArn: f.roleArn, bufferSeconds: f.bufferSeconds, bufferMiB: f.bufferMiB, compression: f.compression } } : {}),
    logs: { group: config.aws.logs.group, retentionDays: config.aws.logs.retentionDays },
    iam: iamSpec(config),
  };
}

/** The resources of a spec, in the order `up` creates them (`down` goes in reverse). */
export function infraResources(spec: InfraSpec, clients: AwsClients, options: { waitMs?: number } = {}): InfraResource[] {
  const wait = { timeoutMs: options.waitMs ?? 300_000 };
  return [
    spec.lake
      ? bucketResource(clients, spec, { bucket: spec.lake.bucket, role: `lake s3://${spec.lake.bucket}/${spec.lake.prefix}`, website: undefined })
      : skipped('bucket', '(lake)', 'lake bucket', 'the lake is a folder, not s3://bucket/prefix'),
    spec.report
      ? bucketResource(clients, spec, { bucket: spec.report.bucket, role: `report website, public read on ${spec.report.prefix || '(all)'}*`, website: spec.report.prefix })
      : skipped('website-bucket', '(report)', 'report website bucket', 'not configured (aws.report.bucket)'),
    logGroupResource(clients, spec.logs),
    kinesisResource(clients, spec.kinesis, wait),
    // The IAM roles and instance profiles, before the delivery stream that assumes one.
    ...(spec.iam ? iamResources(spec.iam, clients) : []),
    spec.firehose && spec.lake
      ? firehoseResource(clients, spec.firehose, spec.lake, wait)
      : skipped('firehose', '(delivery stream)', 'Firehose delivery stream', 'not configured (aws.firehose.deliveryStream)'),
  ];
}

/** What exists and how it differs from the config. */
export async function infraStatus(resources: readonly InfraResource[]): Promise<ResourceStatus[]> {
  const out: ResourceStatus[] = [];
  for (const r of resources) out.push(await r.inspect());
  return out;
}

/** The full plan, computed with read-only calls. */
export async function planInfra(direction: 'up' | 'down', resources: readonly InfraResource[], options: { force?: boolean } = {}): Promise<PlannedChange[]> {
  const ordered = direction === 'up' ? resources : [...resources].reverse();
  const plan: PlannedChange[] = [];
  for (const r of ordered) {
    const status = await r.inspect();
    plan.push(direction === 'up' ? r.up(status) : r.down(status, { force: options.force === true }));
  }
  return plan;
}

/**
 * Carries out a plan in order. A plan with a refusal changes nothing: the UserError names every
 * refused resource. `onChange` hears of each change as it is made.
 */
export async function applyPlan(plan: readonly PlannedChange[], onChange?: (change: PlannedChange) => void): Promise<PlannedChange[]> {
  const refused = plan.filter((c) => c.action === 'refuse');
  if (refused.length > 0) {
    throw new UserError(`nothing changed: ${refused.map((c) => `${c.resource.kind} "${c.resource.name}" ${c.reason ?? 'refused'}`).join('; ')}`, {
      hint: 'pass --force to delete non-empty buckets with everything in them',
    });
  }
  const done: PlannedChange[] = [];
  for (const change of plan) {
    if (!change.apply) continue;
    try {
      await change.apply();
    } catch (error) {
      throw refusedChange(change, done, error);
    }
    done.push(change);
    onChange?.(change);
  }
  return done;
}

/**
 * An AWS answer that stopped a change (an invalid name, a limit, a role Firehose cannot assume)
 * as a UserError naming the resource and what was already done; user-fixable failures are
 * already UserErrors, and anything that is not an AWS answer is a bug and passes through.
 */
function refusedChange(change: PlannedChange, done: readonly PlannedChange[], error: unknown): unknown {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (error instanceof UserError || status === undefined) return error;
  const made = done.length > 0 ? `; done before it: ${done.map((c) => `${c.action} ${c.resource.kind} "${c.resource.name}"`).join(', ')}` : '';
  return new UserError(`AWS refused to ${change.action} ${change.resource.kind} "${change.resource.name}": ${errorMessage(error).replace(/\s+/g, ' ')}${made}`, {
    hint: change.resource.kind === 'firehose' ? 'Firehose needs a role it can assume that may write the lake bucket: set aws.firehose.roleArn, or create the role openevents-firehose' : 'check the config values it names, then run `openevents infra up` again (what is done is kept)',
    cause: error,
  });
}

// ---- resources -------------------------------------------------------------------------------

function skipped(kind: string, name: string, role: string, reason: string): InfraResource {
  const status: ResourceStatus = { kind, name, role, exists: false, skipped: true, reason, details: {}, drift: [] };
  return {
    kind,
    name,
    role,
    inspect: async () => status,
    up: (s) => ({ resource: s, action: 'skip', changes: [], reason }),
    down: (s) => ({ resource: s, action: 'skip', changes: [], reason }),
  };
}

function none(resource: ResourceStatus): PlannedChange {
  return { resource, action: 'none', changes: [] };
}

/** A bucket: the lake's (everything private) or the report website's (public read on its prefix only). */
function bucketResource(clients: AwsClients, spec: InfraSpec, o: { bucket: string; role: string; website: string | undefined }): InfraResource {
  const Bucket = o.bucket;
  const kind = o.website === undefined ? 'bucket' : 'website-bucket';
  const block: PublicAccessBlockConfiguration = o.website === undefined ? ALL_PUBLIC_ACCESS_BLOCKED : POLICY_ONLY_PUBLIC_ACCESS;
  const statement = o.website === undefined ? undefined : publicReadStatement(Bucket, o.website);
  const s3 = () => clients.client('s3');
  const describeBlock = (b: PublicAccessBlockConfiguration | undefined): string => {
    if (!b) return 'not set';
    const on = (Object.keys(ALL_PUBLIC_ACCESS_BLOCKED) as Array<keyof PublicAccessBlockConfiguration>).filter((k) => b[k] === true);
    if (on.length === 4) return 'all on';
    if (on.length === 2 && b.BlockPublicAcls && b.IgnorePublicAcls) return 'ACLs blocked, bucket policy may grant public read';
    return on.length === 0 ? 'all off' : `only ${on.join(', ')}`;
  };

  const setBlock = async (): Promise<void> => void (await (await s3()).send(new PutPublicAccessBlockCommand({ Bucket, PublicAccessBlockConfiguration: block })));
  const setWebsite = async (): Promise<void> => {
    const client = await s3();
    await client.send(new PutBucketWebsiteCommand({ Bucket, WebsiteConfiguration: WEBSITE_CONFIGURATION }));
    // The block first: with BlockPublicPolicy still on, AWS refuses the public policy.
    await client.send(new PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify(withStatement(await currentPolicy(client, Bucket), statement!)) }));
  };

  return {
    kind,
    name: Bucket,
    role: o.role,
    async inspect() {
      const client = await s3();
      const base: ResourceStatus = { kind, name: Bucket, role: o.role, exists: false, details: {}, drift: [] };
      // (GetBucketLocation answers from any region, and with an error body where HeadBucket has none.)
      const located = await ifExists(() => client.send(new GetBucketLocationCommand({ Bucket })));
      if (!located) return base;
      const region = regionOfLocation(located.LocationConstraint);
      const current = await getBlock(client, Bucket);
      const listed = await client.send(new ListObjectsV2Command({ Bucket, MaxKeys: 1000 }));
      const objects = listed.KeyCount ?? listed.Contents?.length ?? 0;
      const details: Record<string, unknown> = { region, objects: listed.IsTruncated ? `${objects}+` : objects, publicAccessBlock: describeBlock(current) };
      const drift: string[] = [];
      if (region !== spec.region) drift.push(`in region ${region}, the config's is ${spec.region}`);
      if (describeBlock(current) !== describeBlock(block)) drift.push(`Block Public Access ${describeBlock(current)}, want ${describeBlock(block)}`);
      if (statement) {
        const hasWebsite = await client.send(new GetBucketWebsiteCommand({ Bucket })).then(
          () => true,
          (error: unknown) => {
            if (error instanceof S3ServiceException && error.name === 'NoSuchWebsiteConfiguration') return false;
            throw error;
          },
        );
        const policy = await currentPolicy(client, Bucket);
        const ours = policy.Statement.find((s) => (s as { Sid?: string }).Sid === statement.Sid);
        details.website = hasWebsite ? websiteUrl(Bucket, region, o.website ?? '', clients.endpoint('s3')) : 'off';
        if (!hasWebsite) drift.push('website hosting is off');
        if (JSON.stringify(ours) !== JSON.stringify(statement)) drift.push(ours ? `public read is on ${(ours as { Resource?: string }).Resource}, want ${statement.Resource}` : `no public-read policy for ${statement.Resource}`);
      }
      return { ...base, exists: true, details, drift };
    },
    up(status) {
      if (!status.exists) {
        const changes = [`create bucket in ${spec.region}`, `Block Public Access ${describeBlock(block)}`];
        if (statement) changes.push('website hosting (index.html)', `public read on ${statement.Resource} only`);
        return {
          resource: status,
          action: 'create',
          changes,
          apply: async () => {
            const client = await s3();
            await client.send(
              new CreateBucketCommand({
                Bucket,
                ...(spec.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: spec.region as BucketLocationConstraint } }),
              }),
            );
            await setBlock();
            if (statement) await setWebsite();
          },
        };
      }
      const fixable = status.drift.filter((d) => !d.startsWith('in region'));
      if (fixable.length === 0) return none(status);
      return {
        resource: status,
        action: 'update',
        changes: fixable,
        apply: async () => {
          await setBlock();
          if (statement) await setWebsite();
        },
      };
    },
    down(status, { force }) {
      if (!status.exists) return none(status);
      const objects = status.details.objects;
      if (objects !== 0 && !force) return { resource: status, action: 'refuse', changes: [], reason: `holds ${String(objects)} object(s)` };
      return {
        resource: status,
        action: 'delete',
        changes: objects !== 0 ? [`delete ${String(objects)} object(s) and their versions`, 'delete bucket'] : ['delete bucket'],
        apply: async () => {
          const client = await s3();
          await emptyBucket(client, Bucket);
          await client.send(new DeleteBucketCommand({ Bucket }));
        },
      };
    },
  };
}

async function getBlock(client: S3Client, Bucket: string): Promise<PublicAccessBlockConfiguration | undefined> {
  try {
    return (await client.send(new GetPublicAccessBlockCommand({ Bucket }))).PublicAccessBlockConfiguration;
  } catch (error) {
    if (error instanceof S3ServiceException && error.name === 'NoSuchPublicAccessBlockConfiguration') return undefined;
    throw error;
  }
}

/** Every object version, delete marker and unfinished upload of a bucket, removed. */
async function emptyBucket(client: S3Client, Bucket: string): Promise<void> {
  // (The SDK has no paginator for these two listings: their markers are followed by hand.)
  let marker: { KeyMarker?: string; VersionIdMarker?: string } = {};
  for (;;) {
    const page = await client.send(new ListObjectVersionsCommand({ Bucket, ...marker }));
    const ids = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].filter((v) => v.Key).map((v) => ({ Key: v.Key!, ...(v.VersionId ? { VersionId: v.VersionId } : {}) }));
    for (let i = 0; i < ids.length; i += 1000) await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: ids.slice(i, i + 1000), Quiet: true } }));
    if (!page.IsTruncated) break;
    marker = { ...(page.NextKeyMarker ? { KeyMarker: page.NextKeyMarker } : {}), ...(page.NextVersionIdMarker ? { VersionIdMarker: page.NextVersionIdMarker } : {}) };
  }
  let uploads: { KeyMarker?: string; UploadIdMarker?: string } = {};
  for (;;) {
    const page = await client.send(new ListMultipartUploadsCommand({ Bucket, ...uploads }));
    for (const u of page.Uploads ?? []) if (u.Key && u.UploadId) await client.send(new AbortMultipartUploadCommand({ Bucket, Key: u.Key, UploadId: u.UploadId }));
    if (!page.IsTruncated) break;
    uploads = { ...(page.NextKeyMarker ? { KeyMarker: page.NextKeyMarker } : {}), ...(page.NextUploadIdMarker ? { UploadIdMarker: page.NextUploadIdMarker } : {}) };
  }
}

/** GetBucketLocation's answer as a region (empty means us-east-1, 'EU' the old eu-west-1). */
function regionOfLocation(location: string | undefined): string {
  if (!location) return 'us-east-1';
  return location === 'EU' ? 'eu-west-1' : location;
}

function logGroupResource(clients: AwsClients, spec: InfraSpec['logs']): InfraResource {
  const name = spec.group;
  const role = 'CloudWatch Logs telemetry';
  const logs = () => clients.client('cloudwatch_logs');
  const retention = (days: number | undefined): string => (days ? `${days} days` : 'forever');
  const setRetention = async (): Promise<void> => {
    const client = await logs();
    if (spec.retentionDays === 0) await client.send(new DeleteRetentionPolicyCommand({ logGroupName: name }));
    else await client.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: spec.retentionDays }));
  };
  return {
    kind: 'log-group',
    name,
    role,
    async inspect() {
      const base: ResourceStatus = { kind: 'log-group', name, role, exists: false, details: {}, drift: [] };
      const out = await (await logs()).send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
      const group = out.logGroups?.find((g) => g.logGroupName === name);
      if (!group) return base;
      const days = group.retentionInDays;
      const drift = (days ?? 0) !== spec.retentionDays ? [`retention ${retention(days)}, want ${retention(spec.retentionDays)}`] : [];
      return { ...base, exists: true, details: { retention: retention(days), storedBytes: group.storedBytes ?? 0 }, drift };
    },
    up(status) {
      if (!status.exists) {
        return {
          resource: status,
          action: 'create',
          changes: ['create log group', `retention ${retention(spec.retentionDays)}`],
          apply: async () => {
            try {
              await (await logs()).send(new CreateLogGroupCommand({ logGroupName: name }));
            } catch (error) {
              // Created meanwhile (by another `infra up`): the retention below still applies.
              if ((error as { name?: string }).name !== 'ResourceAlreadyExistsException') throw error;
            }
            await setRetention();
          },
        };
      }
      return status.drift.length === 0 ? none(status) : { resource: status, action: 'update', changes: status.drift, apply: setRetention };
    },
    down(status) {
      if (!status.exists) return none(status);
      return {
        resource: status,
        action: 'delete',
        changes: ['delete log group and its records'],
        apply: async () => void (await (await logs()).send(new DeleteLogGroupCommand({ logGroupName: name }))),
      };
    },
  };
}

function kinesisResource(clients: AwsClients, spec: InfraSpec['kinesis'], wait: { timeoutMs: number }): InfraResource {
  const name = spec.stream;
  const role = 'Kinesis stream (streamer → lander)';
  const kinesis = () => clients.client('kinesis');
  const describe = async () => (await ifExists(async () => (await kinesis()).send(new DescribeStreamSummaryCommand({ StreamName: name }))))?.StreamDescriptionSummary;
  const untilActive = (): Promise<void> => waitFor(`Kinesis stream "${name}" to become ACTIVE`, async () => (await describe())?.StreamStatus === 'ACTIVE', wait.timeoutMs);
  const shards = (n: number): string => `${n} shard${n === 1 ? '' : 's'}`;
  return {
    kind: 'kinesis-stream',
    name,
    role,
    async inspect() {
      const base: ResourceStatus = { kind: 'kinesis-stream', name, role, exists: false, details: {}, drift: [] };
      const s = await describe();
      if (!s) return base;
      const open = s.OpenShardCount ?? 0;
      const mode = s.StreamModeDetails?.StreamMode ?? 'PROVISIONED';
      const drift: string[] = [];
      if (mode === 'ON_DEMAND') drift.push('on-demand capacity, the config asks for provisioned shards');
      else if (open !== spec.shards) drift.push(`${shards(open)} open, want ${shards(spec.shards)}`);
      return { ...base, exists: true, details: { state: s.StreamStatus, openShards: open, mode, retentionHours: s.RetentionPeriodHours }, drift };
    },
    up(status) {
      if (!status.exists) {
        return {
          resource: status,
          action: 'create',
          changes: [`create stream with ${shards(spec.shards)}`],
          apply: async () => {
            await (await kinesis()).send(new CreateStreamCommand({ StreamName: name, ShardCount: spec.shards, StreamModeDetails: { StreamMode: 'PROVISIONED' } }));
            await untilActive();
          },
        };
      }
      const reshard = status.drift.filter((d) => d.includes('open, want'));
      if (reshard.length === 0) return none(status);
      return {
        resource: status,
        action: 'update',
        changes: [`reshard to ${shards(spec.shards)} (uniform scaling)`],
        apply: async () => {
          // One UpdateShardCount may at most double or halve the open shards: step towards the target.
          for (let open = Number(status.details.openShards); open !== spec.shards; ) {
            const next = spec.shards > open ? Math.min(spec.shards, open * 2) : Math.max(spec.shards, Math.ceil(open / 2));
            await untilActive();
            await (await kinesis()).send(new UpdateShardCountCommand({ StreamName: name, TargetShardCount: next, ScalingType: 'UNIFORM_SCALING' }));
            open = next;
          }
          await untilActive();
        },
      };
    },
    down(status) {
      if (!status.exists) return none(status);
      return {
        resource: status,
        action: 'delete',
        changes: ['delete stream (records not yet landed are lost)'],
        apply: async () => void (await (await kinesis()).send(new DeleteStreamCommand({ StreamName: name, EnforceConsumerDeletion: true }))),
      };
    },
  };
}

function firehoseResource(clients: AwsClients, spec: NonNullable<InfraSpec['firehose']>, lake: NonNullable<InfraSpec['lake']>, wait: { timeoutMs: number }): InfraResource {
  const name = spec.name;
  const role = `Firehose delivery stream → s3://${lake.bucket}/${lake.prefix}${RAW}/YYYY/MM/DD/HH/`;
  const firehose = () => clients.client('firehose');
  const bucketArn = `arn:aws:s3:::${lake.bucket}`;
  // No expressions: Firehose then appends its default YYYY/MM/DD/HH/ (UTC arrival hour), the lake's layout.
  const prefix = `${lake.prefix}${RAW}/`;
  const roleArn = async (): Promise<string> => {
    if (spec.roleArn) return spec.roleArn;
    const { Account } = await (await clients.client('sts')).send(new GetCallerIdentityCommand({}));
    return `arn:aws:iam::${Account}:role/${FIREHOSE_ROLE_NAME}`;
  };
  const describe = async () => (await ifExists(async () => (await firehose()).send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: name }))))?.DeliveryStreamDescription;
  const destination = (role: string) => ({
    RoleARN: role,
    BucketARN: bucketArn,
    Prefix: prefix,
    BufferingHints: { IntervalInSeconds: spec.bufferSeconds, SizeInMBs: spec.bufferMiB },
    CompressionFormat: spec.compression,
  });
  const differences = (d: ExtendedS3DestinationDescription | undefined, wantRole: string | undefined): string[] => {
    if (!d) return ['no S3 destination'];
    const out: string[] = [];
    if (d.BucketARN !== bucketArn) out.push(`delivers to ${d.BucketARN}, want ${bucketArn}`);
    if ((d.Prefix ?? '') !== prefix) out.push(`prefix "${d.Prefix ?? ''}", want "${prefix}"`);
    if (d.BufferingHints?.IntervalInSeconds !== spec.bufferSeconds || d.BufferingHints?.SizeInMBs !== spec.bufferMiB)
      out.push(`buffers ${d.BufferingHints?.IntervalInSeconds} s / ${d.BufferingHints?.SizeInMBs} MiB, want ${spec.bufferSeconds} s / ${spec.bufferMiB} MiB`);
    if ((d.CompressionFormat ?? 'UNCOMPRESSED') !== spec.compression) out.push(`compression ${d.CompressionFormat}, want ${spec.compression}`);
    if (wantRole && d.RoleARN !== wantRole) out.push(`role ${d.RoleARN}, want ${wantRole}`);
    return out;
  };
  return {
    kind: 'firehose',
    name,
    role,
    async inspect() {
      const base: ResourceStatus = { kind: 'firehose', name, role, exists: false, details: {}, drift: [] };
      const s = await describe();
      if (!s) return base;
      const d = s.Destinations?.[0]?.ExtendedS3DestinationDescription;
      return {
        ...base,
        exists: true,
        details: { state: s.DeliveryStreamStatus, destination: d?.BucketARN, prefix: d?.Prefix, versionId: s.VersionId, destinationId: s.Destinations?.[0]?.DestinationId },
        drift: differences(d, spec.roleArn || undefined),
      };
    },
    up(status) {
      if (!status.exists) {
        return {
          resource: status,
          action: 'create',
          changes: [`create DirectPut stream into ${bucketArn}/${prefix}YYYY/MM/DD/HH/`, `buffer ${spec.bufferSeconds} s or ${spec.bufferMiB} MiB, ${spec.compression}`],
          apply: async () => {
            await (await firehose()).send(
              new CreateDeliveryStreamCommand({ DeliveryStreamName: name, DeliveryStreamType: 'DirectPut', ExtendedS3DestinationConfiguration: destination(await roleArn()) }),
            );
            await waitFor(`Firehose delivery stream "${name}" to become ACTIVE`, async () => (await describe())?.DeliveryStreamStatus === 'ACTIVE', wait.timeoutMs);
          },
        };
      }
      if (status.drift.length === 0) return none(status);
      return {
        resource: status,
        action: 'update',
        changes: status.drift,
        apply: async () => {
          const now = await describe();
          await (await firehose()).send(
            new UpdateDestinationCommand({
              DeliveryStreamName: name,
              CurrentDeliveryStreamVersionId: now?.VersionId,
              DestinationId: now?.Destinations?.[0]?.DestinationId,
              ExtendedS3DestinationUpdate: destination(await roleArn()),
            }),
          );
        },
      };
    },
    down(status) {
      if (!status.exists) return none(status);
      return {
        resource: status,
        action: 'delete',
        changes: ['delete delivery stream (records it buffers are lost)'],
        apply: async () => void (await (await firehose()).send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: name }))),
      };
    },
  };
}

/** The call's answer, or undefined when what it asks about does not exist. */
async function ifExists<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (isAwsNotFound(error)) return undefined;
    throw error;
  }
}

/** Polls `done` until it holds, or throws a UserError after `timeoutMs`. */
async function waitFor(what: string, done: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 250; !(await done()); delay = Math.min(delay * 2, 5_000)) {
    if (Date.now() > deadline) throw new UserError(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`, { hint: 'run `openevents infra status` to see where it stands, then `infra up` again' });
    await new Promise((r) => setTimeout(r, delay));
  }
}
