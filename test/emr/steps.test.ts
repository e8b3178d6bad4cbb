import { DescribeClusterCommand, EMRClient, ListBootstrapActionsCommand, ListClustersCommand, ListStepsCommand } from '@aws-sdk/client-emr';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Store } from '../../src/lake/s3-store.ts';
import { runCli } from '../helpers/cli.ts';
import { seedTrainingLake } from '../helpers/emr-steps.ts';
import { corpusNdjson, generateCorpus, type CorpusEvent } from '../helpers/ml-corpus.ts';
import { useMoto } from '../helpers/moto.ts';

// `emr run --steps etl,ml,report` against moto_server: what is uploaded (code, toolkit tarball,
// the training run's rows, the ETL plan) and the cluster as requested — its steps in pipeline
// order with their arguments, ActionOnFailure, bootstrap actions and tags. (moto's clusters never
// progress: the steps' outcomes are tested with the fake EMR endpoint in ml-step.test.ts.)
const moto = useMoto();
let emr: EMRClient;
let s3: S3Client;
let work: string;
const LAKE = 's3://lake/oe';
const TRAIN_HOUR = '2015-03-08T12';
const HOUR = '2015-03-08T13';
let events: CorpusEvent[];

beforeAll(async () => {
  const client = { endpoint: moto().endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  emr = new EMRClient(client);
  s3 = new S3Client({ ...client, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: 'lake' }));
  // Curated tables to train on, in the bucket; and raw objects for the hour the cluster is for.
  work = mkdtempSync(path.join(tmpdir(), 'oe-emr-steps-'));
  events = await seedTrainingLake(LAKE, moto(), path.join(work, 'cache/lake'), TRAIN_HOUR);
  const store = S3Store.fromUrl(LAKE, { endpointUrl: moto().endpoint, env: { ...moto().env }, cacheDir: path.join(work, 'cache/lake') });
  await store.put('raw/2015/03/08/13/gen-1-20.ndjson', corpusNdjson(generateCorpus({ events: 20, seed: 12 })));
}, 120_000);
afterAll(() => {
  emr?.destroy();
  s3?.destroy();
  rmSync(work, { recursive: true, force: true });
});

const cli = (args: string[]) =>
  runCli(args, { env: { ...process.env, ...moto().env, OPENEVENTS_LAKE: LAKE, OPENEVENTS_AWS_REPORT_BUCKET: 'site', OPENEVENTS_ML_TREES: '7', XDG_CACHE_HOME: path.join(work, 'cache') }, cwd: work });

const keys = async (prefix: string): Promise<string[]> => ((await s3.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort();
const body = async (key: string): Promise<Buffer> => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'lake', Key: key }))).Body!.transformToByteArray());

describe('openevents emr run --steps etl,ml,report against moto_server', () => {
  it('--dry-run prints the steps in pipeline order and the bootstrap actions, and uploads nothing', async () => {
    const run = await cli(['emr', 'run', '--hour', HOUR, '--steps', 'report,ml,etl', '--dry-run', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const plan = JSON.parse(run.stdout);
    expect(plan.request.Name).toBe(`openevents etl,ml,report ${HOUR}`);
    expect(plan.request.Steps.map((s: { Name: string }) => s.Name)).toEqual([
      `etl ${HOUR}`,
      `ml ${plan.ml.runId}`,
      `report ${HOUR} commit`,
      `report ${HOUR} build`,
      `report ${HOUR} publish`,
    ]);
    expect(plan.request.BootstrapActions.map((b: { Name: string }) => b.Name)).toEqual(['openevents code and Python dependencies', 'openevents toolkit and Node.js']);
    expect(plan.toolkit.uri).toMatch(/^s3:\/\/lake\/oe\/_emr\/code\/toolkit\/openevents-[\d.]+-[0-9a-f]{12}\.tgz$/);
    expect(plan.etl).toMatchObject({ batches: 1, objects: 1 });
    expect(await keys('oe/_emr/')).toEqual([]);
    expect(await keys(`oe/models/${plan.ml.runId}/`)).toEqual([]);
    expect((await emr.send(new ListClustersCommand({}))).Clusters ?? []).toEqual([]);
  }, 120_000);

  it('stages the code, the toolkit and the training rows, and starts one cluster with the steps, arguments, bootstrap actions and tags asked; again starts nothing', async () => {
    const first = await cli(['emr', 'run', '--hour', HOUR, '--steps', 'etl,ml,report', '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const { started, job, ml } = JSON.parse(first.stdout);
    expect(started).toBe(true);
    const runId: string = ml.runId;
    expect(runId).toMatch(/^\d{8}-\d{6}-\d{3}-emr$/);

    // The tags say what the cluster is for: the hour and the steps.
    const { Cluster: cluster } = await emr.send(new DescribeClusterCommand({ ClusterId: job.id }));
    const tags = Object.fromEntries((cluster!.Tags ?? []).map((t) => [t.Key, t.Value]));
    expect(tags).toMatchObject({ pipeline: 'openevents', hour: HOUR, steps: 'etl,ml,report', 'openevents:key': `${HOUR}/etl,ml,report` });
    const code = `s3://lake/oe/_emr/code/${tags['openevents:code']}/`;

    // The steps, in pipeline order, each stopping the rest when it fails.
    const { Steps: listed } = await emr.send(new ListStepsCommand({ ClusterId: job.id }));
    const steps = [...listed!].reverse(); // newest first
    expect(steps.map((s) => [s.Name, s.Config?.Jar, s.ActionOnFailure])).toEqual([
      [`etl ${HOUR}`, 'command-runner.jar', 'TERMINATE_CLUSTER'],
      [`ml ${runId}`, 'command-runner.jar', 'TERMINATE_CLUSTER'],
      [`report ${HOUR} commit`, 'command-runner.jar', 'TERMINATE_CLUSTER'],
      [`report ${HOUR} build`, 'command-runner.jar', 'TERMINATE_CLUSTER'],
      [`report ${HOUR} publish`, 'command-runner.jar', 'TERMINATE_CLUSTER'],
    ]);
    // ml: ml.py from the code bundle, the arguments `ml train --engine spark` gives it, with s3:// paths:
    // rows and outputs under _emr/ml/<run>/, the model straight into the run's folder.
    const staged = `s3://lake/oe/_emr/ml/${runId}/`;
    expect(steps[1]!.Config!.Args).toEqual([
      'spark-submit', '--deploy-mode', 'client', '--conf', 'spark.yarn.maxAppAttempts=1', '/home/hadoop/openevents/current/spark/jobs/ml.py',
      'train', '--input', `${staged}rows.ndjson`, '--output', `${staged}out`, '--model-dir', `s3://lake/oe/models/${runId}/spark-model`,
      '--stopwords-dir', '/home/hadoop/openevents/current/src/ml/stopwords', '--model', 'rf',
      '--vocabulary', '2000', '--min-df', '3', '--ngrams', '1', '--reg-param', expect.any(String), '--smoothing', expect.any(String),
      '--trees', '7', '--max-depth', '20', '--features-per-split', '0', '--seed', '42', '--max-bins', expect.any(String),
    ]);
    // report: the toolkit on the primary node commits the hour and the run, builds and publishes.
    const bin = '/home/hadoop/openevents/bin/openevents';
    expect(steps.slice(2).map((s) => s.Config!.Args)).toEqual([
      [bin, 'emr', 'collect', '--hour', HOUR, '--lake', LAKE],
      [bin, 'report', 'build', '--lake', LAKE],
      [bin, 'report', 'publish', '--lake', LAKE, '--bucket', 'site', '--prefix', 'reports/'],
    ]);

    // Bootstrap: the code on every node, then the toolkit tarball (named by its content) with Node.js.
    const { BootstrapActions: actions } = await emr.send(new ListBootstrapActionsCommand({ ClusterId: job.id }));
    expect(actions!.map((a) => [a.Name, a.ScriptPath])).toEqual([
      ['openevents code and Python dependencies', `${code}provisioning/emr/bootstrap.sh`],
      ['openevents toolkit and Node.js', `${code}provisioning/emr/toolkit.sh`],
    ]);
    const tarballUri = actions![1]!.Args![0]!;
    const [tarball, ...more] = await keys('oe/_emr/code/toolkit/');
    expect(more).toEqual([]);
    expect(tarballUri).toBe(`s3://lake/${tarball}`);
    const packed = await body(tarball!);
    expect(tarball).toContain(`-${createHash('sha256').update(packed).digest('hex').slice(0, 12)}.tgz`);
    expect(gunzipSync(packed).includes('package/provisioning/emr/toolkit.sh')).toBe(true);

    // The training run: its rows (every labelled event, each on its side of the split), split and test set; no metrics yet.
    const rows = (await body(`oe/_emr/ml/${runId}/rows.ndjson`)).toString().trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.event_id).sort()).toEqual(events.map((e) => e.id).sort());
    const test = gunzipSync(await body(`oe/models/${runId}/test-set.ndjson.gz`)).toString().trim().split('\n').map((l) => JSON.parse(l).eventId);
    expect(rows.filter((r) => r.split === 'test').map((r) => r.event_id).sort()).toEqual([...test].sort());
    expect(await keys(`oe/models/${runId}/`)).toEqual([`oe/models/${runId}/split.json`, `oe/models/${runId}/test-set.ndjson.gz`]);

    // Again for the same hour and steps: nothing starts, and no second run is left staged.
    const again = await cli(['emr', 'run', '--hour', HOUR, '--steps', 'ml,report,etl', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ started: false, job: { id: job.id } });
    expect((await emr.send(new ListClustersCommand({}))).Clusters!.map((c) => c.Id)).toEqual([job.id]);
    expect((await keys('oe/_emr/ml/')).every((k) => k.startsWith(`oe/_emr/ml/${runId}/`))).toBe(true);
    expect((await keys('oe/models/')).every((k) => k.startsWith(`oe/models/${runId}/`))).toBe(true);
  }, 300_000);

  it('the report step needs a website bucket; unknown steps are named', async () => {
    const noBucket = await runCli(['emr', 'run', '--hour', HOUR, '--steps', 'etl,report'], { env: { ...process.env, ...moto().env, OPENEVENTS_LAKE: LAKE, XDG_CACHE_HOME: path.join(work, 'cache') }, cwd: work });
    expect(noBucket.code).toBe(1);
    expect(noBucket.stderr).toContain('error: the report step publishes to aws.report.bucket, which is not set');
    const unknown = await cli(['emr', 'run', '--hour', HOUR, '--steps', 'etl,train']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('error: --steps takes a comma-separated list of etl, ml, report; got "etl,train"');
  });
});
