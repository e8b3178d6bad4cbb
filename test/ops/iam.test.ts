import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IAM_TEMPLATES, ROLES, iamSpec, readTemplate, renderPolicy, trustPolicy, type IamValues, type PolicyDocument } from '../../src/aws/iam.ts';
import { configSchema } from '../../src/config/schema.ts';
import { EMR_OPENEVENTS, reportSteps } from '../../src/emr/toolkit.ts';
import type { HourId } from '../../src/lake/layout.ts';
import { ROOT } from '../helpers/moto.ts';
import { allows, grantedActions, list, type NeededPermission } from './policy.ts';
import { iamActions, reachableFiles, sdkCalls, type SdkCall } from './sdk-calls.ts';

/** A config that sets everything a policy can name, so every statement is rendered. */
const config = configSchema.parse({
  profile: 'aws',
  lake: 's3://acme-lake/events',
  aws: {
    region: 'eu-west-1',
    kinesis: { stream: 'acme-events' },
    firehose: { deliveryStream: 'acme-firehose' },
    logs: { group: '/acme/openevents' },
    report: { bucket: 'acme-site', prefix: 'dash/' },
    ec2: { name: 'acme-streamer' },
  },
});
const spec = iamSpec(config);
const values: IamValues = { ...spec.values, account: '111122223333', partition: 'aws', region: 'eu-west-1' };

/**
 * The short allow-list of what may not be scoped to a resource the config names. Everything
 * else must name one of: the lake or report bucket (and prefix), the stream, the delivery
 * stream, the log group, the roles.
 */
const UNSCOPED_ACTIONS: Record<string, string> = {
  // EC2's Describe calls have no resource-level permissions: Resource must be "*".
  'ec2:DescribeInstances': 'EC2 Describe* take no resource',
  // A cluster's ARN does not exist before RunJobFlow makes it, and listing takes no resource.
  'elasticmapreduce:RunJobFlow': 'creates the cluster: no ARN before the call',
  'elasticmapreduce:ListClusters': 'list calls take no resource',
};
const UNSCOPED_ARNS: Array<[RegExp, string]> = [
  // Instances and volumes get generated ids: the statements narrow them by tag instead (checked below).
  [/^arn:aws:ec2:eu-west-1:111122223333:(instance|volume)\/\*$/, 'generated ids; a tag condition narrows them'],
  [/^arn:aws:elasticmapreduce:eu-west-1:111122223333:cluster\/\*$/, 'generated cluster ids'],
  // What RunInstances also touches: the image (Debian's public AMI) and the network pieces chosen in aws.ec2.
  [/^arn:aws:ec2:eu-west-1:(111122223333)?:(image|subnet|network-interface|security-group|key-pair)\/\*$/, 'launch inputs of RunInstances'],
  // The public parameter that names Debian's current AMI (aws.ec2.imageId resolve:ssm:).
  [/^arn:aws:ssm:eu-west-1::parameter\/aws\/service\/debian\/\*$/, "Debian's public AMI parameters"],
  // DescribeLogGroups names groups by prefix, not one group.
  [/^arn:aws:logs:eu-west-1:111122223333:log-group:\*$/, 'DescribeLogGroups'],
];
/** The names of what the config has; a scoped ARN names one of them. */
const CONFIGURED = ['acme-lake', 'acme-site', 'acme-events', 'acme-firehose', '/acme/openevents', 'role/openevents-', 'instance-profile/openevents-', 'role/EMR_DefaultRole'];

/** What is wrong with a policy's scoping: wildcard actions, "*" or unnamed resources beyond the allow-lists. */
function scopingProblems(policy: PolicyDocument): string[] {
  const problems: string[] = [];
  for (const s of policy.Statement) {
    const where = s.Sid ?? JSON.stringify(s.Action);
    if (s.Effect !== 'Allow') problems.push(`${where}: Effect ${s.Effect}`);
    for (const action of list(s.Action)) if (!/^[a-z0-9-]+:[A-Za-z0-9]+$/.test(action)) problems.push(`${where}: wildcard or malformed action "${action}"`);
    for (const resource of list(s.Resource)) {
      if (resource === '*') {
        const unscoped = list(s.Action).filter((a) => !(a in UNSCOPED_ACTIONS));
        if (unscoped.length > 0) problems.push(`${where}: Resource "*" for ${unscoped.join(', ')}`);
      } else if (!CONFIGURED.some((name) => resource.includes(name)) && !UNSCOPED_ARNS.some(([re]) => re.test(resource))) {
        problems.push(`${where}: ${resource} names nothing the config has`);
      } else if (/:(instance|volume)\/\*$/.test(resource) && !JSON.stringify(s.Condition ?? {}).includes('openevents:streamer') && !s.Condition?.StringEquals?.['ec2:CreateAction']) {
        problems.push(`${where}: ${resource} without the streamer's tag condition`);
      }
    }
  }
  return problems;
}

/** Modules whose S3 calls touch the report bucket (`aws.report`), not the lake. */
const REPORT_BUCKET_MODULES = ['src/report/publish.ts'];

/** The resource a component's call of `action` touches for this config, with the request's condition keys. */
function needOf(action: string, file?: string): NeededPermission {
  const [service, name] = action.split(':') as [string, string];
  const context: Record<string, string> = {
    // Lake listings name a prefix inside the lake; a launch tags what it creates; roles are passed to their service.
    's3:prefix': 'events/raw/2026/11/30/',
    'aws:RequestTag/openevents:streamer': 'acme-streamer',
    'aws:ResourceTag/openevents:streamer': 'acme-streamer',
    'ec2:CreateAction': 'RunInstances',
  };
  const report = service === 's3' && file !== undefined && REPORT_BUCKET_MODULES.includes(file);
  return { action, resource: report ? reportResourceOf(name) : resourceOf(service, name), context };
}

/** What a report-publishing S3 call touches: an object under the report prefix, or the report bucket. */
function reportResourceOf(name: string): string {
  return /Object/.test(name) ? 'arn:aws:s3:::acme-site/dash/20261130T1300Z.html' : 'arn:aws:s3:::acme-site';
}

/** The roles a call passes, and to which service: what its iam:PassRole must be allowed on. */
const PASSES: Record<string, { roles: string[]; service: string }> = {
  'ec2:RunInstances': { roles: ['openevents-streamer'], service: 'ec2.amazonaws.com' },
  'emr:RunJobFlow': { roles: ['openevents-emr-steps', 'EMR_DefaultRole'], service: 'elasticmapreduce.amazonaws.com' },
  'firehose:CreateDeliveryStream': { roles: ['openevents-firehose'], service: 'firehose.amazonaws.com' },
  'firehose:UpdateDestination': { roles: ['openevents-firehose'], service: 'firehose.amazonaws.com' },
};

/** The permissions the derived calls need: each action on its resource, iam:PassRole on the roles each call passes. */
function needsOf(calls: SdkCall[], keep: (action: string) => boolean): NeededPermission[] {
  const needs = new Map<string, NeededPermission>();
  for (const call of calls) {
    for (const action of iamActions([call]).filter(keep)) {
      if (action !== 'iam:PassRole') {
        const need = needOf(action, call.file);
        needs.set(`${action} ${need.resource}`, need);
      }
      else for (const role of PASSES[`${call.service}:${call.operation}`]?.roles ?? []) needs.set(`${action} ${role}`, { action, resource: `arn:aws:iam::111122223333:role/${role}`, context: { 'iam:PassedToService': PASSES[`${call.service}:${call.operation}`]!.service } });
    }
  }
  return [...needs.values()];
}

function resourceOf(service: string, name: string): string {
  const r = 'eu-west-1';
  const a = '111122223333';
  switch (service) {
    case 's3':
      return /Object|MultipartUploadParts|AbortMultipartUpload/.test(name) ? 'arn:aws:s3:::acme-lake/events/raw/2026/11/30/13/w1-1-9.ndjson.gz' : 'arn:aws:s3:::acme-lake';
    case 'kinesis':
      return `arn:aws:kinesis:${r}:${a}:stream/acme-events`;
    case 'firehose':
      return `arn:aws:firehose:${r}:${a}:deliverystream/acme-firehose`;
    case 'logs':
      return ['CreateLogStream', 'PutLogEvents', 'GetLogEvents'].includes(name)
        ? `arn:aws:logs:${r}:${a}:log-group:/acme/openevents:log-stream:stream/host/20261130T130000Z-42`
        : `arn:aws:logs:${r}:${a}:log-group:/acme/openevents`;
    case 'ec2':
      return name === 'RunInstances' || name === 'CreateTags' ? `arn:aws:ec2:${r}:${a}:instance/*` : `arn:aws:ec2:${r}:${a}:instance/i-0123456789abcdef0`;
    case 'iam':
      return name === 'GetInstanceProfile' ? `arn:aws:iam::${a}:instance-profile/openevents-streamer` : `arn:aws:iam::${a}:role/openevents-streamer`;
    case 'elasticmapreduce':
      return `arn:aws:elasticmapreduce:${r}:${a}:cluster/j-2AXXXXXXGAPLF`;
    case 'ssm':
      return `arn:aws:ssm:${r}::parameter/aws/service/debian/release/bookworm/latest/amd64`;
    default:
      throw new Error(`no resource known for ${service}:${name}`);
  }
}

/** Where a component's calls come from. */
interface Component {
  /** Its entry modules: what the scanner reaches from them is what it may call. The first must be in the tree for the check to run. */
  entries?: string[];
  /** `openevents` subcommands it runs: the modules their actions load are entries too (see commandModules). */
  commands?: string[][];
  /** What runs no code of ours (a service, a connector): the actions its documentation lists. */
  actions?: string[];
  /** Derived from a module it shares, but never called by this component: why. */
  notCalled?: Record<string, string>;
  /** Derived, but left to an account administrator. */
  adminOnly?: RegExp;
}

/** The `openevents` subcommands the report steps run on the cluster (the words before the first option). */
function reportStepCommands(): string[][] {
  const steps = reportSteps('s3://acme-lake/events/', '2026-11-30T13' as HourId, { bucket: 'acme-site', prefix: 'dash/' }, { etl: true });
  return steps.map((step) => {
    const [command, ...args] = step.argv ?? [];
    if (command !== EMR_OPENEVENTS) throw new Error(`report step ${step.label} does not run the toolkit: ${command}`);
    return args.slice(0, args.findIndex((a) => a.startsWith('-')));
  });
}

const DYNAMIC_IMPORT = /import\(\s*'(\.{1,2}\/[^']+)'\s*\)/g;

/**
 * The modules `openevents <group> <sub>` loads: the dynamic imports of its action in
 * src/cli/commands/<group>.ts (commands are thin: they load their services when they run) and of
 * the file's local `const x = async (…) => {…}` helpers it calls, plus the lake (src/lake/open.ts)
 * when it opens the config's lake and the client factory when it asks for AWS clients. Not the CLI
 * runtime as a whole: that also holds the telemetry sink, which these commands never open.
 */
function commandModules([group, sub]: string[]): string[] {
  const file = `src/cli/commands/${group}.ts`;
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const marker = `.command('${sub}')`;
  const start = text.indexOf(marker);
  if (start < 0 || text.indexOf(marker, start + 1) >= 0) throw new Error(`${file}: expected one ${marker}`);
  const next = text.indexOf('.command(', start + marker.length);
  const action = text.slice(start, next < 0 ? undefined : next);
  const loaded = [action];
  for (const helper of text.matchAll(/const (\w+) = async \(/g)) {
    const end = text.indexOf('\n  };\n', helper.index);
    if (new RegExp(`\\b${helper[1]}\\(`).test(action)) loaded.push(text.slice(helper.index, end < 0 ? undefined : end));
  }
  const modules = new Set<string>();
  for (const part of loaded) {
    for (const m of part.matchAll(DYNAMIC_IMPORT)) modules.add(path.relative(ROOT, path.resolve(ROOT, path.dirname(file), m[1]!)));
    if (/\.lake\(/.test(part)) modules.add('src/lake/open.ts');
    if (/\.aws\(\)/.test(part)) modules.add('src/aws/clients.ts');
  }
  return [...modules].sort();
}

const COMPONENTS: Record<string, Component> = {
  // `openevents stream` on the EC2 streamer (systemd: stream --sink kinesis)
  streamer: {
    entries: ['src/cli/commands/stream.ts'],
    notCalled: { 'logs:FilterLogEvents': "telemetry/cloudwatch.ts also holds the reader of `openevents logs`; the streamer only ships" },
  },
  // `openevents land` (issue 10's lander)
  lander: { entries: ['src/cli/commands/land.ts'], notCalled: { 'logs:FilterLogEvents': 'as for the streamer' } },
  // The scheduler box runs `openevents schedule` (each tick spawns `openevents etl`: src/schedule/launch.ts) and `openevents alerts` (issue 11)
  scheduler: { entries: ['src/cli/commands/schedule.ts', 'src/cli/commands/alerts.ts', 'src/cli/commands/etl.ts'] },
  // Every command. IAM writes are left to an account administrator (`infra up` the first time):
  // an identity that may write openevents-* roles could give itself any permission.
  operator: { entries: ['src/cli/main.ts'], adminOnly: /^iam:(Create|Delete|Put|Add|Remove|Update|Tag)/ },
  // The Spark steps reach the lake through Hadoop's S3A connector: its minimal permissions
  // (hadoop-aws documentation, "S3A: required permissions"). The report steps run the toolkit on
  // the primary node: the commands reportSteps gives, so a new step command is checked here too.
  'emr-steps': {
    commands: reportStepCommands(),
    actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:ListBucket', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:GetBucketLocation'],
  },
  // Firehose delivering to S3 (Firehose documentation, "Grant Firehose access to an Amazon S3 destination").
  firehose: { actions: ['s3:AbortMultipartUpload', 's3:GetBucketLocation', 's3:GetObject', 's3:ListBucket', 's3:ListBucketMultipartUploads', 's3:PutObject'] },
};

describe('IAM policies (provisioning/iam)', () => {
  it('every template is a role of infra, and every role has a template', () => {
    const templates = readdirSync(IAM_TEMPLATES).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();
    expect(templates).toEqual(ROLES.map((r) => r.template).sort());
    expect(Object.keys(COMPONENTS).sort()).toEqual(ROLES.map((r) => r.component).sort());
  });

  it('every policy parses, and nothing is "*" or unscoped beyond the allow-list', () => {
    for (const role of ROLES) {
      const template = readTemplate(role.template);
      expect(template.Version, role.template).toBe('2012-10-17');
      const policy = renderPolicy(template, values);
      // Every statement survives with this config: nothing the template says is silently lost
      expect(policy.Statement.length, role.template).toBe(template.Statement.length);
      expect(JSON.stringify(policy)).not.toContain('{{');
      expect(scopingProblems(policy), role.template).toEqual([]);
      const trust = trustPolicy(role, values, spec);
      expect(trust.Statement.every((s) => s.Principal && !Object.values(s.Principal).includes('*')), role.name).toBe(true);
    }
  });

  it('the scoping check finds wildcards and unscoped resources', () => {
    const bad: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'A', Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::acme-lake/*' },
        { Sid: 'B', Effect: 'Allow', Action: ['kinesis:PutRecords'], Resource: '*' },
        { Sid: 'C', Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::*/*' },
        { Sid: 'D', Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' },
        { Sid: 'E', Effect: 'Allow', Action: 'ec2:StopInstances', Resource: 'arn:aws:ec2:eu-west-1:111122223333:instance/*' },
      ],
    };
    expect(scopingProblems(bad)).toEqual([
      'A: wildcard or malformed action "s3:*"',
      'B: Resource "*" for kinesis:PutRecords',
      'C: arn:aws:s3:::*/* names nothing the config has',
      "E: arn:aws:ec2:eu-west-1:111122223333:instance/* without the streamer's tag condition",
    ]);
  });

  it('a config without a report bucket or delivery stream leaves their statements out, keeping the rest', () => {
    const plain = iamSpec(configSchema.parse({ profile: 'aws', lake: 's3://plain-lake' }));
    const operator = renderPolicy(readTemplate('operator'), { ...plain.values, account: '111122223333', partition: 'aws', region: 'eu-west-1' });
    const text = JSON.stringify(operator);
    expect(text).not.toContain('firehose');
    expect(text).not.toContain('report');
    expect(allows(operator, { action: 's3:PutObject', resource: 'arn:aws:s3:::plain-lake/raw/x' })).toBeDefined();
    expect(plain.roles.map((r) => r.name)).not.toContain('openevents-firehose');
    expect(iamSpec(configSchema.parse({ lake: './lake' })).skipped).toMatch(/folder/);
  });

  for (const role of ROLES) {
    const component = COMPONENTS[role.component]!;
    const primary = component.entries?.[0];
    const absent = primary !== undefined && !existsSync(path.join(ROOT, primary));
    // A component whose code is not in the tree yet (another engineer's) is checked once it is.
    it.skipIf(absent)(`${role.name} allows every call of the ${role.component}, and nothing else${absent ? ` (skipped: ${primary} not in the tree yet)` : ''}`, () => {
      const policy = renderPolicy(readTemplate(role.template), values);
      const needs = (component.actions ?? []).map((a) => needOf(a));
      const entries = [...(component.entries ?? []), ...(component.commands ?? []).flatMap(commandModules)];
      if (entries.length > 0) {
        const calls = sdkCalls(ROOT, reachableFiles(ROOT, entries.filter((e) => existsSync(path.join(ROOT, e)))));
        expect(calls.length, 'the scanner found no SDK call at all').toBeGreaterThan(0);
        needs.push(...needsOf(calls, (a) => !(a in (component.notCalled ?? {})) && !component.adminOnly?.test(a)));
      }
      const denied = needs.filter((need) => !allows(policy, need)).map((n) => `${n.action} ${n.resource}`);
      expect(denied, `${role.name} lacks these (action on the resource it touches)`).toEqual([]);
      const needed = needs.map((n) => n.action);
      const extra = grantedActions(policy).filter((a) => !needed.includes(a));
      expect(extra, `${role.name} grants what the ${role.component} never calls`).toEqual([]);
    });
  }

  it("the EMR steps' role is derived from the commands the report steps run, and only what they load", () => {
    expect(reportStepCommands()).toEqual([['emr', 'collect'], ['report', 'build'], ['report', 'publish']]);
    expect(commandModules(['report', 'publish'])).toEqual(expect.arrayContaining(['src/aws/clients.ts', 'src/lake/open.ts', 'src/report/publish.ts']));
    const collect = reachableFiles(ROOT, commandModules(['emr', 'collect'])).map((f) => path.relative(ROOT, f));
    expect(collect).toEqual(expect.arrayContaining(['src/emr/collect.ts', 'src/etl/run.ts', 'src/lake/s3-store.ts']));
    expect(collect).not.toContain('src/emr/clusters.ts');
    // The same derivation of `emr run` (which starts clusters through its `service` helper) needs what the role must not grant.
    const run = iamActions(sdkCalls(ROOT, reachableFiles(ROOT, commandModules(['emr', 'run']))));
    expect(run).toContain('elasticmapreduce:RunJobFlow');
    expect(allows(renderPolicy(readTemplate('emr-steps'), values), needOf('elasticmapreduce:RunJobFlow'))).toBeUndefined();
    // Publishing touches the report bucket and prefix, not the lake.
    const publish = needsOf(sdkCalls(ROOT, reachableFiles(ROOT, ['src/report/publish.ts'])), () => true);
    expect(publish.map((n) => n.resource)).toEqual(expect.arrayContaining(['arn:aws:s3:::acme-site', 'arn:aws:s3:::acme-site/dash/20261130T1300Z.html']));
    expect(publish.filter((n) => n.resource.includes('acme-lake')).map((n) => n.action)).not.toContain('s3:PutBucketPolicy');
    // ...and the role writes only under the prefix there, and changes nothing of other buckets.
    const steps = renderPolicy(readTemplate('emr-steps'), values);
    expect(allows(steps, { action: 's3:PutObject', resource: 'arn:aws:s3:::acme-site/dash/index.html' })).toBeDefined();
    expect(allows(steps, { action: 's3:PutObject', resource: 'arn:aws:s3:::acme-site/elsewhere/index.html' })).toBeUndefined();
    expect(allows(steps, { action: 's3:PutBucketPolicy', resource: 'arn:aws:s3:::acme-lake' })).toBeUndefined();
  });

  it('the derivation sees the calls the code makes (a known set from known files)', () => {
    const calls = sdkCalls(ROOT, reachableFiles(ROOT, ['src/ec2/streamer.ts']));
    expect(iamActions(calls)).toEqual(
      expect.arrayContaining(['ec2:DescribeInstances', 'ec2:RunInstances', 'ec2:StartInstances', 'ec2:StopInstances', 'ec2:TerminateInstances', 'ec2:GetConsoleOutput', 'iam:PassRole', 's3:GetObject', 's3:PutObject']),
    );
    // A role without the operator's EC2 rights fails the same check
    const streamer = renderPolicy(readTemplate('streamer'), values);
    expect(allows(streamer, needOf('ec2:RunInstances'))).toBeUndefined();
    // A tag condition holds only for the configured streamer's tag
    const operator = renderPolicy(readTemplate('operator'), values);
    expect(allows(operator, needOf('ec2:StopInstances'))).toBeDefined();
    expect(allows(operator, { ...needOf('ec2:StopInstances'), context: { 'aws:ResourceTag/openevents:streamer': 'another' } })).toBeUndefined();
  });
});
