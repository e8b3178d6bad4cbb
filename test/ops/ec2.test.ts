import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  CreateKeyPairCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { GetInstanceProfileCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { PolicyDocument } from '../../src/aws/iam.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClient, s3Client } from '../../src/aws/clients.ts';
import { configSchema } from '../../src/config/schema.ts';
import { startAwsProxy, type AwsProxy } from '../helpers/aws-proxy.ts';
import { runCli } from '../helpers/cli.ts';
import { ROOT, useMoto, type Moto } from '../helpers/moto.ts';
import { describeWith } from '../helpers/requires.ts';
import { tempDirs } from '../helpers/temp.ts';
import { allows } from './policy.ts';
import { iamActions, reachableFiles, sdkCalls } from './sdk-calls.ts';
import { decodeRequest } from './wire-actions.ts';

const run = promisify(execFile);
const tmp = tempDirs('oe-ec2-');
let moto: () => Moto;
const LAKE = 's3://ec2-lake/prod';
const NAME = 'ec2-test-streamer';
const SOURCE = 'https://stream.example.org/2/open_events';

let s3: S3Client;
let ec2: EC2Client;
let iam: IAMClient;
/** Between the CLI and moto: records every request the operator's commands send. */
let proxy: AwsProxy;
let scratch: string;
/** What the config asks for, from moto's own catalogue (so the test checks our values, not defaults). */
let imageId: string;
let subnetId: string;

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ENDPOINT_URL: proxy.endpoint,
    OPENEVENTS_PROFILE: 'aws',
    OPENEVENTS_LAKE: LAKE,
    OPENEVENTS_SOURCE_URL: SOURCE,
    OPENEVENTS_AWS_EC2_NAME: NAME,
    OPENEVENTS_AWS_EC2_INSTANCE_TYPE: 't3.micro',
    OPENEVENTS_AWS_EC2_IMAGE_ID: imageId,
    OPENEVENTS_AWS_EC2_SUBNET_ID: subnetId,
    OPENEVENTS_AWS_EC2_KEY_NAME: 'ops-key',
    OPENEVENTS_AWS_KINESIS_STREAM: 'ec2-events',
    OPENEVENTS_AWS_S3_CACHE_DIR: path.join(scratch, 'cache'),
    ...extra,
  };
}

function cli(args: string[], extra: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(args, { env: env(extra) });
}

/** Every instance carrying the streamer tag, by asking EC2 directly. */
async function tagged(states = ['pending', 'running', 'stopping', 'stopped']): Promise<Instance[]> {
  const out = await ec2.send(
    new DescribeInstancesCommand({ Filters: [{ Name: 'tag:openevents:streamer', Values: [NAME] }, { Name: 'instance-state-name', Values: states }] }),
  );
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

async function userDataOf(id: string): Promise<string> {
  const out = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'userData' }));
  return Buffer.from(out.UserData?.Value ?? '', 'base64').toString('utf8');
}

/** YAML → JSON with PyYAML from the project's .venv (an independent parser). */
async function parseYaml(text: string): Promise<Record<string, unknown>> {
  const file = path.join(scratch, `user-data-${Date.now()}.yaml`);
  await writeFile(file, text);
  const { stdout } = await run(path.join(ROOT, '.venv/bin/python'), ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))', file]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

describeWith(['venv'], 'infra and ec2 against moto_server', () => {
  moto = useMoto();
  beforeAll(async () => {
    s3 = s3Client({ endpointUrl: moto().endpoint });
    ec2 = awsClient('ec2', EC2Client, { endpointUrl: moto().endpoint });
    iam = awsClient('iam', IAMClient, { endpointUrl: moto().endpoint });
    scratch = tmp();
    proxy = await startAwsProxy(moto().endpoint);
    imageId = (await ec2.send(new DescribeImagesCommand({}))).Images!.find((i) => i.ImageId)!.ImageId!;
    subnetId = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets!.at(-1)!.SubnetId!;
    await ec2.send(new CreateKeyPairCommand({ KeyName: 'ops-key' }));
    // The roles and instance profiles come from `infra up` (which also makes the lake bucket).
    const up = await cli(['infra', 'up']);
    expect(up.code, up.stderr).toBe(0);
  });
  afterAll(async () => {
    s3?.destroy();
    ec2?.destroy();
    iam?.destroy();
    await proxy?.close();
  });

  describe('infra up: the IAM roles against moto_server', { timeout: 600_000 }, () => {
    it('made each role with its template rendered for this config, trust, and instance profiles', async () => {
      const policy = async (role: string): Promise<{ Statement: Array<{ Sid: string; Action: string | string[]; Resource: string | string[] }> }> =>
        JSON.parse(decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: 'openevents' }))).PolicyDocument!));
      const streamer = await policy('openevents-streamer');
      const sid = (p: typeof streamer, id: string) => p.Statement.find((s) => s.Sid === id);
      expect(sid(streamer, 'PutEventsIntoTheStream')?.Resource).toBe('arn:aws:kinesis:us-east-1:123456789012:stream/ec2-events');
      expect(sid(streamer, 'CheckpointLeaseAndQuarantineInTheLake')?.Resource).toBe('arn:aws:s3:::ec2-lake/prod/*');
      expect(sid(streamer, 'FetchTheToolkitAtFirstBoot')?.Resource).toBe('arn:aws:s3:::ec2-lake/prod/_ec2/*');
      expect(sid(streamer, 'ShipTelemetryToCloudWatchLogs')?.Resource).toEqual([
        'arn:aws:logs:us-east-1:123456789012:log-group:/openevents',
        'arn:aws:logs:us-east-1:123456789012:log-group:/openevents:log-stream:*',
      ]);
      // No delivery stream configured: no Firehose statement, no Firehose role
      expect(sid(streamer, 'PutEventsIntoTheDeliveryStream')).toBeUndefined();
      await expect(iam.send(new GetRoleCommand({ RoleName: 'openevents-firehose' }))).rejects.toThrow();
      const trust = async (role: string): Promise<unknown> => JSON.parse(decodeURIComponent((await iam.send(new GetRoleCommand({ RoleName: role }))).Role!.AssumeRolePolicyDocument!));
      await expect(trust('openevents-streamer')).resolves.toEqual({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
      expect(await trust('openevents-operator')).toEqual({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'sts:AssumeRole', Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } }],
      });
      for (const role of ['openevents-streamer', 'openevents-lander', 'openevents-emr-steps', 'openevents-scheduler']) {
        const profile = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: role }));
        expect(profile.InstanceProfile?.Roles?.map((r) => r.RoleName)).toEqual([role]);
      }
    });

    it('status names a policy changed behind its back, and up puts it back', async () => {
      await iam.send(new PutRolePolicyCommand({ RoleName: 'openevents-lander', PolicyName: 'openevents', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }) }));
      const status = await cli(['infra', 'status', '--json']);
      const resources = (JSON.parse(status.stdout) as { resources: Array<{ kind: string; name: string; drift: string[] }> }).resources;
      expect(resources.filter((r) => r.kind === 'iam-role' && r.drift.length > 0).map((r) => [r.name, r.drift])).toEqual([
        ['openevents-lander', ['policy "openevents" differs from provisioning/iam/lander.json']],
      ]);
      const up = await cli(['infra', 'up']);
      expect(up.code, up.stderr).toBe(0);
      expect(up.stdout).toMatch(/~ update\s+iam-role "openevents-lander"/);
      const fixed = JSON.parse(decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: 'openevents-lander', PolicyName: 'openevents' }))).PolicyDocument!)) as { Statement: Array<{ Action: unknown }> };
      expect(fixed.Statement.map((s) => s.Action)).not.toContainEqual('s3:*');
      expect(JSON.parse((await cli(['infra', 'status', '--json'])).stdout).inSync).toBe(true);
    });
  });

  describe('openevents ec2 against moto_server', { timeout: 600_000 }, () => {
    // From here on, what the proxy records is the operator's (`infra up` above is an administrator's)
    beforeAll(() => void (proxy.requests.length = 0));

    it('launch --dry-run plans and starts and uploads nothing', async () => {
      const planned = await cli(['ec2', 'launch', '--dry-run', '--json']);
      expect(planned.code, planned.stderr).toBe(0);
      const result = JSON.parse(planned.stdout) as { action: string; artifact: { uri: string }; request: { InstanceType: string; UserData: string } };
      expect(result.action).toBe('planned');
      expect(result.request.InstanceType).toBe('t3.micro');
      expect(result.request.UserData).toMatch(/^#cloud-config\n/);
      expect(await tagged()).toEqual([]);
      const staged = await s3.send(new ListObjectsV2Command({ Bucket: 'ec2-lake', Prefix: 'prod/_ec2/' }));
      expect(staged.KeyCount ?? 0).toBe(0);
    });

    it('launch starts one instance as configured: type, image, subnet, key pair, profile, tags, user-data; the tarball is staged', async () => {
      const launched = await cli(['ec2', 'launch', '--json']);
      expect(launched.code, launched.stderr).toBe(0);
      const result = JSON.parse(launched.stdout) as { action: string; instance: { id: string }; artifact: { uri: string; sha256: string; uploaded: boolean } };
      expect(result.action).toBe('launched');
      expect(result.artifact.uploaded).toBe(true);

      const [instance, ...more] = await tagged();
      expect(more).toEqual([]);
      expect(instance!.InstanceId).toBe(result.instance.id);
      expect([instance!.InstanceType, instance!.ImageId, instance!.SubnetId, instance!.KeyName]).toEqual(['t3.micro', imageId, subnetId, 'ops-key']);
      // The instance profile `infra up` made, holding the streamer role
      expect(instance!.IamInstanceProfile?.Arn).toBe('arn:aws:iam::123456789012:instance-profile/openevents-streamer');
      const profile = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'openevents-streamer' }));
      expect(profile.InstanceProfile?.Roles?.map((r) => r.RoleName)).toEqual(['openevents-streamer']);
      const tags = Object.fromEntries((instance!.Tags ?? []).map((t) => [t.Key, t.Value]));
      expect(tags).toMatchObject({ Name: NAME, 'openevents:streamer': NAME, 'openevents:artifact': result.artifact.uri });
      expect(tags['openevents:version']).toMatch(/^\d+\.\d+\.\d+/);
      expect(instance!.MetadataOptions?.HttpTokens).toBe('required');

      // The user-data: valid YAML for cloud-init, fetching the staged tarball, with the instance's config
      const userData = await userDataOf(instance!.InstanceId!);
      expect(userData.startsWith('#cloud-config\n')).toBe(true);
      const doc = (await parseYaml(userData)) as { packages: string[]; write_files: Array<{ path: string; content: string }>; runcmd: string[][] };
      expect(doc.packages).toContain('awscli');
      const files = Object.fromEntries(doc.write_files.map((f) => [f.path, f.content]));
      expect(files['/etc/openevents/instance.env']).toBe(`STREAMER_WRITER=${NAME}\n`);
      const instanceConfig = configSchema.parse(JSON.parse(files['/etc/openevents/openevents.config.json']!));
      expect([instanceConfig.profile, instanceConfig.lake, instanceConfig.source.url, instanceConfig.aws.region, instanceConfig.aws.kinesis.stream]).toEqual([
        'aws',
        LAKE,
        SOURCE,
        'us-east-1',
        'ec2-events',
      ]);
      expect(instanceConfig.aws.endpointUrl).toBe('');
      const artifactFile = result.artifact.uri.split('/').at(-1)!;
      expect(doc.runcmd).toContainEqual(['aws', 's3', 'cp', '--only-show-errors', '--region', 'us-east-1', result.artifact.uri, `/var/cache/openevents/${artifactFile}`]);
      expect(doc.runcmd.at(-1)).toEqual(['bash', '/var/cache/openevents/provision.sh', 'streamer', '--artifact', `/var/cache/openevents/${artifactFile}`]);

      // The staged tarball is named by its content and holds what the user-data runs from it
      const key = result.artifact.uri.replace('s3://ec2-lake/', '');
      const body = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'ec2-lake', Key: key }))).Body!.transformToByteArray());
      const sha256 = createHash('sha256').update(body).digest('hex');
      expect(artifactFile).toBe(`openevents-${tags['openevents:version']}-${sha256.slice(0, 12)}.tgz`);
      const tarball = path.join(scratch, artifactFile);
      await writeFile(tarball, body);
      const { stdout: entries } = await run('tar', ['-tzf', tarball]);
      for (const entry of ['package/provisioning/provision.sh', 'package/provisioning/ec2/openevents-streamer.service', 'package/dist/cli/main.js', 'package/package.json']) {
        expect(entries.split('\n')).toContain(entry);
      }
    });

    it('a second launch starts nothing and says which instance exists', async () => {
      const [before] = await tagged();
      const again = await cli(['ec2', 'launch']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain(`exists: ${before!.InstanceId} (running); nothing launched`);
      expect((await tagged()).map((i) => i.InstanceId)).toEqual([before!.InstanceId]);
    });

    it('status shows the instance; stop stops it (a second stop does nothing); start brings it back', async () => {
      const [instance] = await tagged();
      const status = await cli(['ec2', 'status', '--json']);
      expect(status.code, status.stderr).toBe(0);
      const shown = JSON.parse(status.stdout) as { instances: Array<{ id: string; state: string; type: string; keyName: string; instanceProfile: string }> };
      expect(shown.instances.map((i) => [i.id, i.state, i.type, i.keyName, i.instanceProfile])).toEqual([
        [instance!.InstanceId, 'running', 't3.micro', 'ops-key', 'arn:aws:iam::123456789012:instance-profile/openevents-streamer'],
      ]);

      // The serial console (moto's is a fixed text): printed with control characters escaped
      const withConsole = await cli(['ec2', 'status', '--console']);
      expect(withConsole.code, withConsole.stderr).toBe(0);
      expect(withConsole.stdout).toMatch(/^console( \(.*\))?:$/m);

      const stopped = await cli(['ec2', 'stop', '--wait']);
      expect(stopped.code, stopped.stderr).toBe(0);
      expect(stopped.stdout).toContain(`stop EC2 streamer ${instance!.InstanceId}: running → stopped`);
      expect((await tagged(['stopped'])).map((i) => i.InstanceId)).toEqual([instance!.InstanceId]);
      const twice = await cli(['ec2', 'stop']);
      expect(twice.stdout).toContain('is already stopped; nothing to stop');

      // A launch while it is stopped starts nothing either, and points at `ec2 start`
      const launch = await cli(['ec2', 'launch']);
      expect(launch.stdout).toContain('(stopped); nothing launched');
      expect(launch.stdout).toContain('openevents ec2 start');

      const started = await cli(['ec2', 'start', '--wait']);
      expect(started.code, started.stderr).toBe(0);
      expect((await tagged(['running'])).map((i) => i.InstanceId)).toEqual([instance!.InstanceId]);

      // Each change is audited in the pipeline's telemetry (CloudWatch Logs on this profile)
      const audit = await cli(['logs', '--component', 'ec2', '--kind', 'audit', '--since', '1h', '--json']);
      expect(audit.code, audit.stderr).toBe(0);
      const actions = audit.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { data: { action: string; instance: string } }).data);
      expect(actions.map((a) => a.action)).toEqual(['ec2 launch', 'ec2 stop', 'ec2 start']);
      expect(new Set(actions.map((a) => a.instance))).toEqual(new Set([instance!.InstanceId]));

      const hint = await cli(['ec2', 'ssh-hint']);
      expect(hint.stdout).toMatch(/^ssh -i ~\/\.ssh\/ops-key\.pem admin@\S+$/m);
      expect(hint.stdout).toContain(`--target ${instance!.InstanceId}`);
    });

    it('three launches at once leave one instance', async () => {
      const terminated = await cli(['ec2', 'terminate', '--yes', '--wait']);
      expect(terminated.code, terminated.stderr).toBe(0);
      expect(await tagged()).toEqual([]);
      const both = await Promise.all([1, 2, 3].map(() => cli(['ec2', 'launch', '--json'])));
      for (const r of both) expect(r.code, r.stderr).toBe(0);
      const live = await tagged();
      expect(live).toHaveLength(1);
      // Each run names the one that is left
      expect(both.map((r) => (JSON.parse(r.stdout) as { instance: { id: string } }).instance.id)).toEqual([1, 2, 3].map(() => live[0]!.InstanceId));
    });

    it('refuses what the instance could not use, before starting anything', async () => {
      await cli(['ec2', 'terminate', '--yes', '--wait']);
      const cases: Array<[Record<string, string>, RegExp]> = [
        [{ OPENEVENTS_LAKE: path.join(scratch, 'lake') }, /in the lake, which must be in S3; the lake is \//],
        [{ OPENEVENTS_SOURCE_URL: 'http://127.0.0.1:8088/2/open_events' }, /would read http:\/\/127\.0\.0\.1:8088\/2\/open_events on the instance itself/],
        [{ OPENEVENTS_SOURCE_URL: `${SOURCE}?token=s3cr3t` }, /source\.url carries a secret/],
      ];
      for (const [extra, message] of cases) {
        const r = await cli(['ec2', 'launch'], extra);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(message);
        expect(r.stderr).not.toContain('s3cr3t');
      }
      expect(await tagged()).toEqual([]);
      const start = await cli(['ec2', 'start']);
      expect([start.code, start.stderr]).toEqual([1, expect.stringContaining(`no EC2 streamer "${NAME}"`)]);
      // Bad settings and arguments: one line saying what to fix, no stack, nothing started
      const bad: Array<[string[], Record<string, string>, RegExp]> = [
        [['ec2', 'launch'], { OPENEVENTS_AWS_EC2_INSTANCE_TYPE: 'big' }, /aws\.ec2\.instanceType.*an instance type like t3\.small/],
        [['ec2', 'launch'], { OPENEVENTS_AWS_EC2_SUBNET_ID: 'my-subnet' }, /aws\.ec2\.subnetId.*a subnet id/],
        [['ec2', 'launch', '--artifact', path.join(scratch, 'missing.tgz')], {}, /cannot read the toolkit tarball .*missing\.tgz/],
        [['ec2', 'terminate'], {}, /removes its instance and disk[\s\S]*--yes/],
      ];
      for (const [args, extra, message] of bad) {
        const r = await cli(args, extra);
        expect([r.code, r.stderr], args.join(' ')).toEqual([1, expect.stringMatching(message)]);
        expect(r.stderr).not.toMatch(/^\s+at /m);
      }
      expect(await tagged()).toEqual([]);
    });

    it("every request the operator's commands sent is allowed by openevents-operator, on the resource it touched", async () => {
      const policy = JSON.parse(decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: 'openevents-operator', PolicyName: 'openevents' }))).PolicyDocument!)) as PolicyDocument;
      // Instance calls are scoped by the instance's tag (aws:ResourceTag): the tags as EC2 has them
      const all = await ec2.send(new DescribeInstancesCommand({}));
      const tags = new Map((all.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => [i.InstanceId!, Object.fromEntries((i.Tags ?? []).map((t) => [t.Key!, t.Value ?? '']))]));
      const calls = proxy.requests.map((r) => decodeRequest(r, { region: 'us-east-1', account: '123456789012', instanceTags: (id) => tags.get(id) }));
      const operations = new Set(calls.map((c) => `${c.service}:${c.operation}`));
      for (const op of ['ec2:RunInstances', 'ec2:DescribeInstances', 'ec2:StopInstances', 'ec2:StartInstances', 'ec2:TerminateInstances', 'ec2:GetConsoleOutput', 's3:PutObject']) expect(operations).toContain(op);
      const denied = [...new Set(calls.flatMap((c) => c.needs.filter((n) => !allows(policy, n)).map((n) => `${n.action} ${n.resource} ${JSON.stringify(n.context ?? {})}`)))];
      expect(denied).toEqual([]);
      // The static derivation the policy is checked against (iam.test.ts) saw every one of these calls
      const scanned = iamActions(sdkCalls(ROOT, reachableFiles(ROOT, ['src/cli/main.ts'])));
      expect([...new Set(calls.flatMap((c) => c.needs.map((n) => n.action)))].filter((a) => !scanned.includes(a))).toEqual([]);
    });
  });
});
