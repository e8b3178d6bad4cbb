import path from 'node:path';
import { GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { DeleteBucketPolicyCommand, DeleteBucketWebsiteCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { awsClient, s3Client } from '../../src/aws/clients.ts';
import type { PolicyDocument } from '../../src/aws/iam.ts';
import { reportSteps } from '../../src/emr/toolkit.ts';
import type { HourId } from '../../src/lake/layout.ts';
import { startSourceServer, type SourceServer } from '../../src/source/server.ts';
import { startAwsProxy, type AwsProxy } from '../helpers/aws-proxy.ts';
import { runCli } from '../helpers/cli.ts';
import { ROOT, useMoto, type Moto } from '../helpers/moto.ts';
import { describeWith } from '../helpers/requires.ts';
import { tempDirs } from '../helpers/temp.ts';
import { allows, list } from './policy.ts';
import { iamActions, reachableFiles, sdkCalls } from './sdk-calls.ts';
import { decodeRequest, type WireCall } from './wire-actions.ts';

/**
 * Least privilege on the wire: each component runs against moto_server through a recording
 * proxy, with the roles `infra up` made; every request it sent is decoded into the permissions it
 * needs (action, the resource it touched, the request's condition keys) and checked against that
 * component's role policy as IAM holds it. And the other way round: every statement of the role
 * is used by the run, unless the short list below says why not.
 */
const LAKE_BUCKET = 'wire-lake';
const LAKE = `s3://${LAKE_BUCKET}/prod`;
const STREAM = 'wire-events';
const GROUP = '/openevents/wire';
const REPORT_BUCKET = 'wire-site';
/** moto's account and the tests' region. */
const CTX = { region: 'us-east-1', account: '123456789012', stream: STREAM };

const tmp = tempDirs('oe-iam-wire-');
let moto: () => Moto;
let proxy: AwsProxy;
let source: SourceServer;
let iam: IAMClient;
let scratch: string;

function env(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ENDPOINT_URL: proxy.endpoint,
    OPENEVENTS_PROFILE: 'aws',
    OPENEVENTS_LAKE: LAKE,
    OPENEVENTS_SOURCE_URL: source.url,
    OPENEVENTS_AWS_KINESIS_STREAM: STREAM,
    OPENEVENTS_AWS_LOGS_GROUP: GROUP,
    OPENEVENTS_AWS_REPORT_BUCKET: REPORT_BUCKET,
    OPENEVENTS_AWS_REPORT_PREFIX: 'dash/',
    OPENEVENTS_AWS_S3_CACHE_DIR: path.join(scratch, 'cache'),
  };
}

/** Runs the CLI through the proxy and returns the calls it made. */
async function recorded(args: string[]): Promise<WireCall[]> {
  proxy.requests.length = 0;
  const run = await runCli(args, { env: env() });
  expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
  return proxy.requests.map((r) => decodeRequest(r, CTX));
}

async function rolePolicy(role: string): Promise<PolicyDocument> {
  const out = await iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: 'openevents' }));
  return JSON.parse(decodeURIComponent(out.PolicyDocument!)) as PolicyDocument;
}

/** The needs of `calls` that `policy` does not grant, as "action resource" lines. */
function denied(policy: PolicyDocument, calls: WireCall[]): string[] {
  const out = new Set<string>();
  for (const call of calls) for (const need of call.needs) if (!allows(policy, need)) out.add(`${need.action} ${need.resource} ${JSON.stringify(need.context ?? {})}`);
  return [...out].sort();
}

/** The statements (Sid) and actions of `policy` that no call of `calls` used. */
function unused(policy: PolicyDocument, calls: WireCall[]): string[] {
  const used = new Set<string>();
  for (const call of calls) {
    for (const need of call.needs) {
      const s = allows(policy, need);
      if (s) used.add(`${s.Sid} ${list(s.Action).find((a) => a.toLowerCase() === need.action.toLowerCase())}`);
    }
  }
  return policy.Statement.flatMap((s) => list(s.Action).map((a) => `${s.Sid} ${a}`)).filter((k) => !used.has(k));
}

/** The component's calls the static scan (sdk-calls.ts) found: the wire must show no other. */
function scanned(entry: string): string[] {
  return iamActions(sdkCalls(ROOT, reachableFiles(ROOT, [entry])));
}

describeWith(['venv'], 'IAM roles against the calls each component sends (moto_server, recorded)', () => {
  moto = useMoto();
  beforeAll(async () => {
    scratch = tmp();
    proxy = await startAwsProxy(moto().endpoint);
    iam = awsClient('iam', IAMClient, { endpointUrl: moto().endpoint });
    source = await startSourceServer({ generate: { seed: 12, count: 400, startMs: Date.now() - 120_000, stepMs: 100 }, rate: 0 });
    // The lake bucket, log group, stream and roles, made by an administrator (IAM writes are no component's)
    const up = await runCli(['infra', 'up'], { env: { ...env(), AWS_ENDPOINT_URL: moto().endpoint } });
    expect(up.code, up.stderr).toBe(0);
  }, 300_000);
  afterAll(async () => {
    iam?.destroy();
    await source?.close();
    await proxy?.close();
  });

  it('the streamer (stream --sink kinesis) sends only what openevents-streamer allows, and uses all of it', { timeout: 300_000 }, async () => {
    const calls = await recorded(['stream', '--sink', 'kinesis', '--max-events', '400', '--rotate-age', '500', '--stats-interval', '200', '-q']);
    const policy = await rolePolicy('openevents-streamer');
    expect(calls.length).toBeGreaterThan(0);
    expect(denied(policy, calls)).toEqual([]);
    // (The other sink's statement, for stream --sink firehose, is not rendered: this config has no delivery stream.)
    const notUsed: Record<string, string> = {
      // The instance's AWS CLI fetches the toolkit at first boot (user-data), before the toolkit runs.
      'FetchTheToolkitAtFirstBoot s3:GetObject': 'cloud-init, not the toolkit',
      // Only when an upload fails midway.
      'CheckpointLeaseAndQuarantineInTheLake s3:AbortMultipartUpload': 'a failed multipart upload',
      // The writer lease prunes its old generations (src/lake/lease.ts) after renewals a short run does not reach.
      'CheckpointLeaseAndQuarantineInTheLake s3:DeleteObject': 'lease pruning',
    };
    expect(unused(policy, calls).filter((k) => !(k in notUsed))).toEqual([]);
    // The static derivation (what iam.test.ts checks every policy against) saw every call the wire shows
    const actions = [...new Set(calls.flatMap((c) => c.needs.map((n) => n.action)))];
    expect(actions.filter((a) => !scanned('src/cli/commands/stream.ts').includes(a))).toEqual([]);
  });

  it('the lander (land --once) sends only what openevents-lander allows, and uses all of it', { timeout: 300_000 }, async () => {
    const calls = await recorded(['land', '--once', '--rotate-age', '500', '-q']);
    const policy = await rolePolicy('openevents-lander');
    expect(denied(policy, calls)).toEqual([]);
    // As for the streamer: a failed multipart upload, lease pruning
    const notUsed = ['WriteRawHoursCheckpointsAndLeases s3:AbortMultipartUpload', 'WriteRawHoursCheckpointsAndLeases s3:DeleteObject'];
    expect(unused(policy, calls).filter((k) => !notUsed.includes(k))).toEqual([]);
    const actions = [...new Set(calls.flatMap((c) => c.needs.map((n) => n.action)))];
    expect(actions.filter((a) => !scanned('src/cli/commands/land.ts').includes(a))).toEqual([]);
  });

  it('the report steps on the cluster (emr collect, report build, report publish) send only what openevents-emr-steps allows', { timeout: 300_000 }, async () => {
    // As a fresh report bucket would be: no website hosting, no policy yet (publish sets both).
    // And a lake that is one when this test runs alone (the streamer's test fills it otherwise).
    const s3 = s3Client({ endpointUrl: moto().endpoint });
    await s3.send(new PutObjectCommand({ Bucket: LAKE_BUCKET, Key: 'prod/_state/iam-wire.json', Body: '{}' }));
    await s3.send(new DeleteBucketWebsiteCommand({ Bucket: REPORT_BUCKET }));
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: REPORT_BUCKET }));
    s3.destroy();
    const calls: WireCall[] = [];
    // The steps' own argv, as `emr run --steps ml,report` gives them (no etl: no hour to commit here)
    for (const step of reportSteps(LAKE, '2026-11-30T13' as HourId, { bucket: REPORT_BUCKET, prefix: 'dash/' }, { etl: false })) calls.push(...(await recorded(step.argv!.slice(1))));
    const policy = await rolePolicy('openevents-emr-steps');
    expect(calls.length).toBeGreaterThan(0);
    expect(denied(policy, calls)).toEqual([]);
    // The report was published: index.html under the prefix
    expect(calls.flatMap((c) => c.needs).some((n) => n.action === 's3:PutObject' && n.resource === `arn:aws:s3:::${REPORT_BUCKET}/dash/index.html`)).toBe(true);
    const notUsed = [
      // Hadoop S3A's, for the Spark steps (no Spark runs here)
      'ListTheLake s3:GetBucketLocation',
      'ReadRawWriteCuratedModelsAndLogs s3:AbortMultipartUpload',
      'ReadRawWriteCuratedModelsAndLogs s3:ListMultipartUploadParts',
      'ReadRawWriteCuratedModelsAndLogs s3:DeleteObject',
      // Read only to explain a refused public-read policy (S3 Block Public Access)
      'HostTheReportAndMakeOnlyItsPrefixPublic s3:GetBucketPublicAccessBlock',
    ];
    expect(unused(policy, calls).filter((k) => !notUsed.includes(k))).toEqual([]);
  });

  it('the decoding refuses to pass a call a policy does not allow (a wider call, another resource)', async () => {
    const policy = await rolePolicy('openevents-streamer');
    const fake = (method: string, url: string, headers: Record<string, string> = {}): WireCall =>
      decodeRequest(
        { method, url, headers, target: undefined, service: 's3', operation: '', body: Buffer.alloc(0) },
        CTX,
      );
    expect(denied(policy, [fake('PUT', `/${LAKE_BUCKET}/prod/raw/2026/11/30/13/w1.ndjson.gz`)])).toEqual([]);
    expect(denied(policy, [fake('PUT', `/${LAKE_BUCKET}/elsewhere/x`)])).toEqual([`s3:PutObject arn:aws:s3:::${LAKE_BUCKET}/elsewhere/x {}`]);
    expect(denied(policy, [fake('GET', `/${LAKE_BUCKET}?list-type=2&prefix=other%2F`)])).toHaveLength(1);
    expect(denied(policy, [fake('DELETE', `/${LAKE_BUCKET}`)])).toEqual([`s3:DeleteBucket arn:aws:s3:::${LAKE_BUCKET} {}`]);
  });
});
