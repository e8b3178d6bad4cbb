import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  DeleteInstanceProfileCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  UpdateAssumeRolePolicyCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { Config } from '../config/schema.ts';
import { parseS3Url } from '../lake/s3-store.ts';
import type { AwsClients } from './clients.ts';
import { isAwsNotFound } from './errors.ts';
import type { InfraResource, PlannedChange, ResourceStatus } from './infra.ts';

/** provisioning/iam/: one policy template per role (from src/aws or dist/aws). */
export const IAM_TEMPLATES = path.resolve(import.meta.dirname, '../../provisioning/iam');

/** The inline policy every role gets its permissions from (one per role: what its template renders). */
export const POLICY_NAME = 'openevents';

/** Who may assume a role. */
type Trust = { service: string } | { operator: true };

/** One role of the pipeline: who assumes it, its template, and whether it gets an instance profile. */
export interface RoleDefinition {
  /** The component whose calls the policy must allow (test/ops/iam.test.ts checks it). */
  component: 'streamer' | 'lander' | 'emr-steps' | 'scheduler' | 'operator' | 'firehose';
  name: string;
  /** provisioning/iam/<template>.json */
  template: string;
  trust: Trust;
  instanceProfile: boolean;
  description: string;
}

/** The roles `infra up` makes (the Firehose one only when Firehose is configured without a role of its own). */
export const ROLES: readonly RoleDefinition[] = [
  { component: 'streamer', name: 'openevents-streamer', template: 'streamer', trust: { service: 'ec2.amazonaws.com' }, instanceProfile: true, description: 'openevents EC2 streamer: puts events into Kinesis, keeps its checkpoint in the lake' },
  { component: 'lander', name: 'openevents-lander', template: 'lander', trust: { service: 'ec2.amazonaws.com' }, instanceProfile: true, description: 'openevents lander: reads Kinesis, writes raw hours to the lake' },
  { component: 'emr-steps', name: 'openevents-emr-steps', template: 'emr-steps', trust: { service: 'ec2.amazonaws.com' }, instanceProfile: true, description: 'openevents EMR nodes (job flow role): the Spark steps read and write the lake' },
  { component: 'scheduler', name: 'openevents-scheduler', template: 'scheduler', trust: { service: 'ec2.amazonaws.com' }, instanceProfile: true, description: 'openevents scheduler: starts the hourly EMR runs, publishes the report' },
  { component: 'operator', name: 'openevents-operator', template: 'operator', trust: { operator: true }, instanceProfile: false, description: 'openevents operator: infra, ec2, emr, logs, monitor (not IAM writes)' },
  { component: 'firehose', name: 'openevents-firehose', template: 'firehose', trust: { service: 'firehose.amazonaws.com' }, instanceProfile: false, description: 'openevents Firehose delivery into the lake bucket' },
];

/** The EMR service role the pipeline's clusters run with (AWS's default name, `aws emr create-default-roles`). */
export const EMR_SERVICE_ROLE = 'EMR_DefaultRole';

/** What the templates are rendered from: names from the config; account and partition from AWS. */
export interface IamValues {
  partition: string;
  region: string;
  account: string;
  lakeBucket?: string;
  lakePrefix?: string;
  reportBucket?: string;
  reportPrefix?: string;
  stream: string;
  deliveryStream?: string;
  logGroup: string;
  artifactBucket?: string;
  artifactPrefix?: string;
  ec2Name: string;
  streamerRole: string;
  emrStepsRole: string;
  emrServiceRole: string;
  firehoseRole?: string;
}

/** What of the config IAM needs (the account comes later, from STS). */
export interface IamSpec {
  values: Omit<IamValues, 'account' | 'partition' | 'region'>;
  roles: RoleDefinition[];
  operatorPrincipal: string;
  operatorMfa: boolean;
  /** Why no role is made (the lake is not in S3), if so. */
  skipped?: string;
}

/** The IAM part of a config. */
export function iamSpec(config: Config): IamSpec {
  const lake = config.lake.startsWith('s3://') ? parseS3Url(config.lake) : undefined;
  const withSlash = (p: string): string => (p === '' || p.endsWith('/') ? p : `${p}/`);
  const artifact = config.aws.ec2.artifactUri ? parseS3Url(config.aws.ec2.artifactUri) : lake ? { bucket: lake.bucket, prefix: `${withSlash(lake.prefix)}_ec2/` } : undefined;
  const firehoseRole = config.aws.firehose.deliveryStream && !config.aws.firehose.roleArn ? 'openevents-firehose' : undefined;
  const reportPrefix = config.aws.report.prefix.replace(/^\/+/, '');
  return {
    values: {
      ...(lake ? { lakeBucket: lake.bucket, lakePrefix: withSlash(lake.prefix) } : {}),
      ...(config.aws.report.bucket ? { reportBucket: config.aws.report.bucket, reportPrefix: withSlash(reportPrefix) } : {}),
      stream: config.aws.kinesis.stream,
      ...(config.aws.firehose.deliveryStream ? { deliveryStream: config.aws.firehose.deliveryStream } : {}),
      logGroup: config.aws.logs.group,
      ...(artifact ? { artifactBucket: artifact.bucket, artifactPrefix: withSlash(artifact.prefix) } : {}),
      ec2Name: config.aws.ec2.name,
      streamerRole: 'openevents-streamer',
      emrStepsRole: 'openevents-emr-steps',
      emrServiceRole: EMR_SERVICE_ROLE,
      ...(firehoseRole ? { firehoseRole } : {}),
    },
    roles: ROLES.filter((r) => r.component !== 'firehose' || firehoseRole !== undefined),
    operatorPrincipal: config.aws.iam.operatorPrincipal,
    operatorMfa: config.aws.iam.operatorMfa === 'required',
    ...(lake ? {} : { skipped: 'the lake is a folder: the roles are scoped to an s3:// lake' }),
  };
}

/** The partition of a region: aws, aws-cn, aws-us-gov. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** An IAM policy document. */
export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: Record<string, string>;
  Action: string | string[];
  /** Absent in a trust policy. */
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** A template as stored (provisioning/iam/<name>.json). */
export function readTemplate(name: string): PolicyDocument {
  return JSON.parse(readFileSync(path.join(IAM_TEMPLATES, `${name}.json`), 'utf8')) as PolicyDocument;
}

/**
 * Renders a template: every {{name}} replaced by its value. A resource naming something the
 * config does not have (no report bucket, no delivery stream) is left out, and so is a statement
 * left with no resource or whose condition names such a thing.
 */
export function renderPolicy(template: PolicyDocument, values: IamValues): PolicyDocument {
  const fill = (text: string): string | undefined => {
    let missing = false;
    const out = text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
      if (!(key in values) && !KNOWN_KEYS.has(key)) throw new Error(`IAM template: unknown placeholder {{${key}}}`);
      const value = (values as unknown as Record<string, string | undefined>)[key];
      if (value === undefined) missing = true;
      return value ?? '';
    });
    return missing ? undefined : out;
  };
  const statements: PolicyStatement[] = [];
  for (const s of template.Statement) {
    const resources = (Array.isArray(s.Resource) ? s.Resource : [s.Resource ?? '']).map(fill).filter((r): r is string => r !== undefined);
    if (resources.length === 0) continue;
    let condition: PolicyStatement['Condition'];
    if (s.Condition) {
      const text = fill(JSON.stringify(s.Condition));
      if (text === undefined) continue;
      condition = JSON.parse(text) as PolicyStatement['Condition'];
    }
    statements.push({ ...s, Resource: Array.isArray(s.Resource) ? resources : resources[0]!, ...(condition ? { Condition: condition } : {}) });
  }
  return { Version: template.Version, Statement: statements };
}

/** Every placeholder a template may use (values may leave the optional ones out). */
const KNOWN_KEYS = new Set([
  'partition', 'region', 'account', 'lakeBucket', 'lakePrefix', 'reportBucket', 'reportPrefix', 'stream', 'deliveryStream', 'logGroup',
  'artifactBucket', 'artifactPrefix', 'ec2Name', 'streamerRole', 'emrStepsRole', 'emrServiceRole', 'firehoseRole',
]);

/** The trust policy of a role. */
export function trustPolicy(role: RoleDefinition, values: IamValues, spec: Pick<IamSpec, 'operatorPrincipal' | 'operatorMfa'>): PolicyDocument {
  if ('service' in role.trust) {
    return {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: role.trust.service },
          Action: 'sts:AssumeRole',
          // Firehose assumes the role on behalf of this account only (the confused-deputy guard).
          ...(role.trust.service === 'firehose.amazonaws.com' ? { Condition: { StringEquals: { 'sts:ExternalId': values.account } } } : {}),
        },
      ],
    };
  }
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: spec.operatorPrincipal || `arn:${values.partition}:iam::${values.account}:root` },
        Action: 'sts:AssumeRole',
        ...(spec.operatorMfa ? { Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } } : {}),
      },
    ],
  };
}

/** JSON with sorted keys, for comparing a live document with a rendered one. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** IAM returns documents URL-encoded. */
function parseDocument(text: string | undefined): unknown {
  if (!text) return undefined;
  return JSON.parse(text.startsWith('%7B') || text.startsWith('%7b') ? decodeURIComponent(text) : text);
}

/**
 * The roles (and instance profiles) as `infra` resources, between the Kinesis stream and the
 * Firehose delivery stream that assumes one. The account is asked of STS once, when first needed.
 */
export function iamResources(spec: IamSpec, clients: AwsClients): InfraResource[] {
  if (spec.skipped) return [skippedRoles(spec.skipped)];
  let values: Promise<IamValues> | undefined;
  const resolve = (): Promise<IamValues> =>
    (values ??= (async () => {
      const { Account } = await (await clients.client('sts')).send(new GetCallerIdentityCommand({}));
      return { ...spec.values, account: Account ?? '', partition: partitionOf(clients.region), region: clients.region };
    })());
  return spec.roles.map((role) => roleResource(role, spec, clients, resolve));
}

function skippedRoles(reason: string): InfraResource {
  const status: ResourceStatus = { kind: 'iam-role', name: '(roles)', role: 'IAM roles and instance profiles', exists: false, skipped: true, reason, details: {}, drift: [] };
  return {
    kind: 'iam-role',
    name: '(roles)',
    role: status.role,
    inspect: async () => status,
    up: (s) => ({ resource: s, action: 'skip', changes: [], reason }),
    down: (s) => ({ resource: s, action: 'skip', changes: [], reason }),
  };
}

function roleResource(def: RoleDefinition, spec: IamSpec, clients: AwsClients, values: () => Promise<IamValues>): InfraResource {
  const RoleName = def.name;
  const role = `${def.component} role${def.instanceProfile ? " + instance profile" : ""}`;
  const iam = (): Promise<IAMClient> => clients.client('iam');
  const want = async (): Promise<{ policy: PolicyDocument; trust: PolicyDocument }> => {
    const v = await values();
    return { policy: renderPolicy(readTemplate(def.template), v), trust: trustPolicy(def, v, spec) };
  };
  const ifExists = async <T>(call: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await call();
    } catch (error) {
      if (isAwsNotFound(error) || (error as { name?: string }).name === 'NoSuchEntityException' || (error as { name?: string }).name === 'NoSuchEntity') return undefined;
      throw error;
    }
  };
  const putPolicy = async (policy: PolicyDocument): Promise<void> =>
    void (await (await iam()).send(new PutRolePolicyCommand({ RoleName, PolicyName: POLICY_NAME, PolicyDocument: JSON.stringify(policy) })));
  const ensureProfile = async (): Promise<void> => {
    const client = await iam();
    const profile = await ifExists(() => client.send(new GetInstanceProfileCommand({ InstanceProfileName: RoleName })));
    if (!profile) await client.send(new CreateInstanceProfileCommand({ InstanceProfileName: RoleName, Tags: [{ Key: 'openevents:managed', Value: 'true' }] }));
    if (!profile?.InstanceProfile?.Roles?.some((r) => r.RoleName === RoleName)) await client.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: RoleName, RoleName }));
  };

  return {
    kind: 'iam-role',
    name: RoleName,
    role,
    async inspect() {
      const base: ResourceStatus = { kind: 'iam-role', name: RoleName, role, exists: false, details: {}, drift: [] };
      const client = await iam();
      const found = await ifExists(() => client.send(new GetRoleCommand({ RoleName })));
      if (!found?.Role) return base;
      const { policy, trust } = await want();
      const live = await ifExists(() => client.send(new GetRolePolicyCommand({ RoleName, PolicyName: POLICY_NAME })));
      const drift: string[] = [];
      if (!live) drift.push(`no inline policy "${POLICY_NAME}"`);
      else if (canonical(parseDocument(live.PolicyDocument)) !== canonical(policy)) drift.push(`policy "${POLICY_NAME}" differs from provisioning/iam/${def.template}.json`);
      if (canonical(parseDocument(found.Role.AssumeRolePolicyDocument)) !== canonical(trust)) drift.push('trust policy differs');
      const details: Record<string, unknown> = { arn: found.Role.Arn, statements: policy.Statement.length };
      if (def.instanceProfile) {
        const profile = await ifExists(() => client.send(new GetInstanceProfileCommand({ InstanceProfileName: RoleName })));
        details.instanceProfile = profile ? 'yes' : 'missing';
        if (!profile) drift.push('no instance profile');
        else if (!profile.InstanceProfile?.Roles?.some((r) => r.RoleName === RoleName)) drift.push('instance profile without the role');
      }
      return { ...base, exists: true, details, drift };
    },
    up(status): PlannedChange {
      if (!status.exists) {
        const changes = [`create role (trust: ${'service' in def.trust ? def.trust.service : spec.operatorPrincipal || 'this account'}${'operator' in def.trust && spec.operatorMfa ? ', MFA' : ''})`, `inline policy from provisioning/iam/${def.template}.json`];
        if (def.instanceProfile) changes.push('instance profile of the same name');
        return {
          resource: status,
          action: 'create',
          changes,
          apply: async () => {
            const { policy, trust } = await want();
            await (await iam()).send(
              new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: JSON.stringify(trust), Description: def.description, Tags: [{ Key: 'openevents:managed', Value: 'true' }] }),
            );
            await putPolicy(policy);
            if (def.instanceProfile) await ensureProfile();
          },
        };
      }
      if (status.drift.length === 0) return { resource: status, action: 'none', changes: [] };
      return {
        resource: status,
        action: 'update',
        changes: status.drift.map((d) => `fix: ${d}`),
        apply: async () => {
          const { policy, trust } = await want();
          await putPolicy(policy);
          await (await iam()).send(new UpdateAssumeRolePolicyCommand({ RoleName, PolicyDocument: JSON.stringify(trust) }));
          if (def.instanceProfile) await ensureProfile();
        },
      };
    },
    down(status): PlannedChange {
      if (!status.exists) return { resource: status, action: 'none', changes: [] };
      return {
        resource: status,
        action: 'delete',
        changes: [...(def.instanceProfile ? ['delete instance profile'] : []), 'delete inline policies and role'],
        apply: async () => {
          const client = await iam();
          if (def.instanceProfile) {
            const profile = await ifExists(() => client.send(new GetInstanceProfileCommand({ InstanceProfileName: RoleName })));
            if (profile) {
              for (const r of profile.InstanceProfile?.Roles ?? []) await client.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: RoleName, RoleName: r.RoleName! }));
              await client.send(new DeleteInstanceProfileCommand({ InstanceProfileName: RoleName }));
            }
          }
          const names = (await client.send(new ListRolePoliciesCommand({ RoleName }))).PolicyNames ?? [];
          for (const PolicyName of names) await client.send(new DeleteRolePolicyCommand({ RoleName, PolicyName }));
          await client.send(new DeleteRoleCommand({ RoleName }));
        },
      };
    },
  };
}
