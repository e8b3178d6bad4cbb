import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { seedTrainingLake, stepRunner } from '../helpers/emr-steps.ts';
import { captureLines } from '../helpers/etl-lake.ts';
import { startFakeEmr, type FakeEmr } from '../helpers/fake-emr.ts';
import { ROOT, useMoto } from '../helpers/moto.ts';
import { underCi } from '../helpers/requires.ts';

// The ml and report steps on clusters that progress (the fake EMR endpoint), S3 on moto_server.
// A failing training step must surface in `ml train --engine emr`, `emr status` and the alert.
// With hadoop-aws in pyspark's jars, the fake's cluster runs its steps for real on this machine —
// ml.py and etl.py by spark-submit through s3a://, the toolkit's steps by the built CLI — so the
// run, the committed hour and the published report come from what the steps wrote.
const JARS = path.join(ROOT, '.venv/lib/python3.11/site-packages/pyspark/jars');
const hasS3a = existsSync(JARS) && readdirSync(JARS).some((n) => n.startsWith('hadoop-aws-'));
if (!hasS3a && !underCi()) console.warn(`skipped: EMR steps run for real on s3a (no hadoop-aws in ${JARS}; run bash scripts/setup.sh --test)`);

const moto = useMoto();
const LAKE = 's3://lake/oe';
const TRAIN_HOUR = '2015-03-08T12';
const HOUR = '2015-03-08T13';
const steps = stepRunner(() => moto().env);
let fake: FakeEmr;
let s3: S3Client;
let work: string;

beforeAll(async () => {
  s3 = new S3Client({ endpoint: moto().endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await s3.send(new CreateBucketCommand({ Bucket: 'lake' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'site' }));
  const logs = new CloudWatchLogsClient({ endpoint: moto().endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await logs.send(new CreateLogGroupCommand({ logGroupName: '/openevents' }));
  logs.destroy();
  work = mkdtempSync(path.join(tmpdir(), 'oe-emr-ml-'));
  await seedTrainingLake(LAKE, moto(), path.join(work, 'cache/lake'), TRAIN_HOUR);
  await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: 'oe/raw/2015/03/08/13/real-1-40.ndjson', Body: captureLines().slice(0, 40).join('\n') + '\n' }));
  fake = await startFakeEmr({
    putLog: async (uri, gzipped, body) => {
      const m = /^s3n?:\/\/([^/]+)\/(.*)$/.exec(uri)!;
      await s3.send(new PutObjectCommand({ Bucket: m[1], Key: m[2], Body: gzipped ? gzipSync(body) : body }));
    },
  });
}, 120_000);
afterAll(async () => {
  steps.killAll();
  await fake?.close();
  s3?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

const env = (): NodeJS.ProcessEnv => ({
  ...process.env,
  ...moto().env,
  AWS_ENDPOINT_URL_EMR: fake.endpoint,
  OPENEVENTS_LAKE: LAKE,
  OPENEVENTS_AWS_EMR_POLL_SECONDS: '1',
  OPENEVENTS_AWS_REPORT_BUCKET: 'site',
  XDG_CACHE_HOME: path.join(work, 'cache'),
});
const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, { env: { ...env(), ...extra }, cwd: work });
const keys = async (bucket: string, prefix: string): Promise<string[]> => ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort();

describe('the ml step on EMR (fake EMR endpoint, moto_server)', () => {
  it('ml train --engine emr: a failed training step is exit 1 with its FailureDetails, shows in emr status with its stderr, fires the alert, and leaves no run', async () => {
    const stderr = 'Traceback (most recent call last):\n  File "ml.py", line 240, in train\npyspark.errors.AnalysisException: [PATH_NOT_FOUND] Path does not exist: s3a://lake/oe/_emr/ml/x/rows.ndjson';
    fake.next = { tickMs: 300, failStep: { index: 0, reason: 'Unknown Error.', message: 'Step failed with exitCode 1.', stderr } };
    const run = await cli(['ml', 'train', '--engine', 'emr', '--model', 'rf']);
    expect(run.code).toBe(1);
    const clusterId = /started cluster (j-\w+) \(emr ml (\S+)\) for the training step/.exec(run.stderr)?.[1];
    expect(clusterId, run.stderr).toBeDefined();
    expect(run.stderr).toMatch(new RegExp(`error: the training step on EMR cluster ${clusterId} failed: ml \\S+-emr: Unknown Error\\. — Step failed with exitCode 1\\.`));
    expect(run.stderr).toContain(`openevents emr status ${clusterId}`);
    // progress lines while it ran
    expect(run.stderr).toMatch(new RegExp(`${clusterId} STARTING`));
    expect(run.stderr).toMatch(new RegExp(`${clusterId} TERMINATED_WITH_ERRORS`));

    const status = await cli(['emr', 'status', clusterId!]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('TERMINATED_WITH_ERRORS (failed)');
    expect(status.stdout).toMatch(/FAILED\s+ml \S+-emr/);
    expect(status.stdout).toContain('failure: Unknown Error. — Step failed with exitCode 1.');
    expect(status.stdout).toContain('| pyspark.errors.AnalysisException: [PATH_NOT_FOUND]');

    const alerts = await cli(['alerts', '--json'], { OPENEVENTS_PROFILE: 'aws' });
    expect(alerts.code).toBe(1);
    const fired = (JSON.parse(alerts.stdout) as { alerts: Array<{ rule: string; subject: string; message: string }> }).alerts.filter((a) => a.rule === 'job-failed');
    expect(fired.map((a) => a.subject)).toEqual([clusterId]);
    expect(fired[0]!.message).toContain('Step failed with exitCode 1.');

    // Nothing of the run is left: no listed run, nothing staged.
    expect(await keys('lake', 'oe/models/')).toEqual([]);
    expect(await keys('lake', 'oe/_emr/ml/')).toEqual([]);
  }, 120_000);

  describe.skipIf(!hasS3a && !underCi())('steps run for real (spark-submit on s3a://, the built CLI)', () => {
    it('ml train --engine emr writes the run from what ml.py wrote: its model scores the test split to the same metrics', async () => {
      fake.next = { tickMs: 200, runStep: (step) => steps.run(step.args) };
      const run = await cli(['ml', 'train', '--engine', 'emr', '--model', 'rf', '--trees', '20', '--json']);
      expect(run.code, run.stderr).toBe(0);
      const metrics = JSON.parse(run.stdout);
      expect(metrics).toMatchObject({ engine: 'emr', model: 'rf', params: { trees: 20 } });
      expect(metrics.metrics.accuracy).toBeGreaterThan(0.8);
      const prefix = `oe/models/${metrics.runId}/`;
      const files = await keys('lake', prefix);
      expect(files).toEqual(expect.arrayContaining(['metrics.json', 'params.json', 'split.json', 'test-set.ndjson.gz'].map((f) => prefix + f)));
      expect(files.some((k) => k.startsWith(`${prefix}spark-model/metadata/`))).toBe(true);
      expect(await keys('lake', 'oe/_emr/ml/')).toEqual([]);
      const stored = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: 'lake', Key: `${prefix}metrics.json` }))).Body!.transformToString());
      expect(stored).toEqual(metrics);

      // The model the step saved, read back from the lake and scored by Spark here, gives the run's metrics.
      const evaluated = await cli(['ml', 'evaluate', '--json']);
      expect(evaluated.code, evaluated.stderr).toBe(0);
      expect(JSON.parse(evaluated.stdout)).toMatchObject({ runId: metrics.runId, engine: 'emr', source: 'test-split', metrics: metrics.metrics });
    }, 900_000);

    it('emr run --steps etl,ml,report --wait: the cluster commits the hour and the run, then builds and publishes the report', async () => {
      fake.next = { tickMs: 200, runStep: (step) => steps.run(step.args) };
      const before = await keys('lake', 'oe/models/');
      const run = await cli(['emr', 'run', '--hour', HOUR, '--steps', 'etl,ml,report', '--wait', '--json']);
      expect(run.code, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout);
      expect(result.job).toMatchObject({ state: 'succeeded', steps: [{ state: 'succeeded' }, { state: 'succeeded' }, { state: 'succeeded' }, { state: 'succeeded' }, { state: 'succeeded' }] });

      // The hour is committed (by the cluster's commit step), the run written with its metrics.
      const hours = JSON.parse((await cli(['lake', 'ls', '--json'])).stdout);
      expect(JSON.stringify(hours)).toContain(HOUR);
      const runId: string = result.ml.runId;
      expect((await keys('lake', 'oe/models/')).filter((k) => !before.includes(k))).toContain(`oe/models/${runId}/metrics.json`);
      expect(await keys('lake', 'oe/_emr/')).toEqual(expect.not.arrayContaining([expect.stringMatching(/^oe\/_emr\/(ml|etl)\//)]));

      // The report is in the website bucket, built after both: it names the run's model.
      const published = await keys('site', 'reports/');
      expect(published).toContain('reports/index.html');
      const page = await (await s3.send(new GetObjectCommand({ Bucket: 'site', Key: 'reports/index.html' }))).Body!.transformToString();
      expect(page).toContain(runId);
    }, 1_200_000);
  });
});
