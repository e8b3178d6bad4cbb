import { DescribeClusterCommand, EMRClient, ListBootstrapActionsCommand, ListClustersCommand, ListInstanceGroupsCommand, ListStepsCommand } from '@aws-sdk/client-emr';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { captureLines } from '../helpers/etl-lake.ts';
import { ROOT, useMoto } from '../helpers/moto.ts';

// `openevents emr run` against moto_server: S3 for the code, EMR for the cluster (moto's clusters
// never progress: they stay WAITING with their steps RUNNING, which is what "active" needs here).
const moto = useMoto();
let emr: EMRClient;
let s3: S3Client;
let work: string;
const LAKE = 's3://lake/oe';

beforeAll(async () => {
  const client = { endpoint: moto().endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  emr = new EMRClient(client);
  s3 = new S3Client({ ...client, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: 'lake' }));
  // Raw objects for the hours the tests run (an hour without any is refused).
  const lines = captureLines().slice(0, 4).join('\n') + '\n';
  for (const hour of ['05', '06', '07', '09']) {
    await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: `oe/raw/2026/11/28/${hour}/w-1-4.ndjson`, Body: lines }));
  }
  work = mkdtempSync(path.join(tmpdir(), 'oe-emr-moto-'));
});
afterAll(() => {
  emr?.destroy();
  s3?.destroy();
  rmSync(work, { recursive: true, force: true });
});

const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: { ...process.env, ...moto().env, OPENEVENTS_LAKE: LAKE, ...extra }, cwd: work });

async function clusters() {
  const out = await emr.send(new ListClustersCommand({}));
  return out.Clusters ?? [];
}

/** The files the cluster needs, read from the repository here (not through the code under test). */
function expectedCode(): Map<string, string> {
  const files = new Map<string, string>();
  const add = (dir: string, keep: (n: string) => boolean) => {
    for (const name of readdirSync(path.join(ROOT, dir)).filter(keep)) {
      files.set(`${dir}/${name}`, createHash('sha256').update(readFileSync(path.join(ROOT, dir, name))).digest('hex'));
    }
  };
  add('spark/jobs', (n) => n.endsWith('.py'));
  add('src/etl/sql', (n) => n.endsWith('.sql') || n === 'macros.json');
  add('src/ml/stopwords', (n) => n.endsWith('.txt'));
  add('provisioning/emr', () => true);
  return files;
}

describe('openevents emr run against moto_server', () => {
  it('--dry-run prints the RunJobFlow request and starts nothing', async () => {
    const run = await cli(['emr', 'run', '--hour', '2026-11-28T05', '--dry-run', '--json', '--spot']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const plan = JSON.parse(run.stdout);
    expect(plan.request.Name).toBe('openevents etl 2026-11-28T05');
    // --spot on instance fleets: Spot capacity that switches to on-demand when it is not found in time.
    const [primary, core] = plan.request.Instances.InstanceFleets;
    expect(primary).toMatchObject({ InstanceFleetType: 'MASTER', TargetSpotCapacity: 1 });
    expect(core).toMatchObject({ InstanceFleetType: 'CORE', TargetSpotCapacity: 2 });
    expect(core.InstanceTypeConfigs.map((t: { InstanceType: string }) => t.InstanceType)).toEqual(['m5.xlarge', 'm5a.xlarge', 'm6i.xlarge']);
    expect(core.LaunchSpecifications.SpotSpecification).toMatchObject({ TimeoutAction: 'SWITCH_TO_ON_DEMAND', TimeoutDurationMinutes: 10 });
    expect(plan.request.Instances.KeepJobFlowAliveWhenNoSteps).toBe(false);
    // The ETL plan it would upload: the hour's one batch, its raw object by s3:// URL.
    expect(plan.etl).toMatchObject({ batches: 1, objects: 1, uri: expect.stringMatching(/^s3:\/\/lake\/oe\/_emr\/etl\/2026-11-28T05_2026-11-28T05-[0-9a-f]{16}\/plan\.json$/) });
    expect(await clusters()).toEqual([]);
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: 'oe/_emr/' }))).KeyCount).toBe(0);
  });

  it('uploads the code by content hash, starts the cluster with the steps, tags and arguments asked; a second run starts nothing', async () => {
    const settings = {
      OPENEVENTS_AWS_EMR_INSTANCES: 'groups',
      OPENEVENTS_AWS_EMR_PRIMARY_INSTANCE_TYPES: 'm6g.xlarge',
      OPENEVENTS_AWS_EMR_CORE_INSTANCE_TYPES: 'r6g.2xlarge',
      OPENEVENTS_AWS_EMR_CORE_INSTANCES: '3',
      OPENEVENTS_AWS_EMR_RELEASE_LABEL: 'emr-7.5.0',
    };
    const first = await cli(['emr', 'run', '--hour', '2026-11-28T06', '--steps', 'etl', '--json'], settings);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const { started, job } = JSON.parse(first.stdout);
    expect(started).toBe(true);
    expect(job).toMatchObject({ runner: 'emr', kind: 'emr', key: '2026-11-28T06/etl', state: 'running' });

    // The code: every file the jobs need, byte for byte, under <lake>/_emr/code/<hash>/, and a completion marker.
    const hash = job.cluster.tags['openevents:code'];
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    const prefix = `oe/_emr/code/${hash}/`;
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: prefix }));
    const uploaded = new Map<string, string>();
    for (const o of listed.Contents ?? []) {
      const body = await (await s3.send(new GetObjectCommand({ Bucket: 'lake', Key: o.Key! }))).Body!.transformToByteArray();
      uploaded.set(o.Key!.slice(prefix.length), createHash('sha256').update(body).digest('hex'));
    }
    const marker = uploaded.get('_complete.json');
    expect(marker).toBeDefined();
    uploaded.delete('_complete.json');
    expect(Object.fromEntries(uploaded)).toEqual(Object.fromEntries(expectedCode()));

    // The cluster as requested.
    const [summary, ...others] = await clusters();
    expect(others).toEqual([]);
    expect(summary!.Id).toBe(job.id);
    const { Cluster: cluster } = await emr.send(new DescribeClusterCommand({ ClusterId: job.id }));
    expect(cluster).toMatchObject({ Name: 'openevents etl 2026-11-28T06', ReleaseLabel: 'emr-7.5.0', LogUri: 's3://lake/oe/_emr/logs/', AutoTerminate: true, ServiceRole: 'EMR_DefaultRole' });
    expect(Object.fromEntries((cluster!.Tags ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({
      pipeline: 'openevents',
      hour: '2026-11-28T06',
      steps: 'etl',
      'openevents:kind': 'emr',
      'openevents:key': '2026-11-28T06/etl',
    });
    const { Steps: steps } = await emr.send(new ListStepsCommand({ ClusterId: job.id }));
    expect(steps!.map((s) => ({ name: s.Name, jar: s.Config?.Jar, onFailure: s.ActionOnFailure }))).toEqual([{ name: 'etl 2026-11-28T06', jar: 'command-runner.jar', onFailure: 'TERMINATE_CLUSTER' }]);
    // The step runs the hour's ETL plan: spark-submit of etl.py reading the plan from the lake,
    // publishing its files into the lake and its results beside the plan.
    const args = steps![0]!.Config!.Args!;
    const planUri = args[args.indexOf('--plan') + 1]!;
    expect(planUri).toMatch(/^s3:\/\/lake\/oe\/_emr\/etl\/2026-11-28T06_2026-11-28T06-[0-9a-f]{16}\/plan\.json$/);
    const folder = planUri.slice(0, -'plan.json'.length);
    expect(args).toEqual([
      'spark-submit', '--deploy-mode', 'client', '--conf', 'spark.yarn.maxAppAttempts=1', '/home/hadoop/openevents/current/spark/jobs/etl.py',
      '--plan', planUri, '--out', `${folder}out`, '--results', `${folder}results`, '--publish', 's3://lake/oe',
      '--processed-at', expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/),
    ]);
    // The plan in the lake: one batch of the hour, its raw object by URL, written under the hour's unit
    // (its day while the month is open, the month once closed: docs/tables.md).
    const planKey = planUri.slice('s3://lake/'.length);
    const doc = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: 'lake', Key: planKey }))).Body!.transformToString());
    const unit = Date.now() >= Date.UTC(2026, 11, 1) + 5 * 60_000 ? '2026-11' : '2026-11-28';
    expect(doc.batches).toEqual([
      {
        index: 0,
        hours: ['2026-11-28T06'],
        units: { '2026-11-28T06': unit },
        inputs: [{ hour: '2026-11-28T06', key: 'raw/2026/11/28/06/w-1-4.ndjson', url: 's3://lake/oe/raw/2026/11/28/06/w-1-4.ndjson' }],
      },
    ]);
    const { BootstrapActions: bootstrap } = await emr.send(new ListBootstrapActionsCommand({ ClusterId: job.id }));
    expect(bootstrap).toEqual([
      { Name: 'openevents code and Python dependencies', ScriptPath: `s3://lake/${prefix}provisioning/emr/bootstrap.sh`, Args: [`s3://lake/${prefix}`] },
    ]);
    const { InstanceGroups: groups } = await emr.send(new ListInstanceGroupsCommand({ ClusterId: job.id }));
    expect(groups!.map((g) => [g.InstanceGroupType, g.InstanceType, g.RequestedInstanceCount, g.Market]).sort()).toEqual([
      ['CORE', 'r6g.2xlarge', 3, 'ON_DEMAND'],
      ['MASTER', 'm6g.xlarge', 1, 'ON_DEMAND'],
    ]);

    // Again: the active cluster for this hour and steps is found by its tags; nothing new starts.
    const second = await cli(['emr', 'run', '--hour', '2026-11-28T06', '--steps', 'etl'], settings);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`nothing started: cluster ${job.id} (emr etl 2026-11-28T06) is already WAITING`);
    expect((await clusters()).map((c) => c.Id)).toEqual([job.id]);

    // Another hour: a second cluster, and the code (same hash) is not sent again.
    const other = await cli(['emr', 'run', '--hour', '2026-11-28T07'], settings);
    expect(other.code).toBe(0);
    expect(other.stdout).toContain(`code ${hash} already at s3://lake/${prefix}`);
    expect(await clusters()).toHaveLength(2);
  }, 300_000);

  it('two emr runs for one hour at the same moment start one cluster', async () => {
    const before = (await clusters()).length;
    const [a, b] = await Promise.all([cli(['emr', 'run', '--hour', '2026-11-28T09', '--json']), cli(['emr', 'run', '--hour', '2026-11-28T09', '--json'])]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const results = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
    expect(results.map((r) => r.started).sort()).toEqual([false, true]);
    expect(results[0].job.id).toBe(results[1].job.id);
    expect(await clusters()).toHaveLength(before + 1);
  });

  it('an hour without raw objects starts nothing', async () => {
    const run = await cli(['emr', 'run', '--hour', '2026-11-28T11']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error: the lake has no raw objects for hour 2026-11-28T11: nothing to run');
  });

  it('a lake that is not in S3 is a clear error', async () => {
    const run = await cli(['emr', 'run', '--hour', '2026-11-28T06', '--lake', './lake']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error: EMR runs need the lake in S3; the lake is ./lake');
    expect(run.stderr).not.toContain('at ');
  });
});
