import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { EMRClient } from '@aws-sdk/client-emr';
import { cleanup, render } from 'ink-testing-library';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { EmrJobRunner } from '../../src/jobs/emr.ts';
import { emrSettings } from '../../src/emr/settings.ts';
import { pipelineJob } from '../../src/emr/pipeline.ts';
import { etlPlan } from '../../src/etl/engines/emr.ts';
import { JobsPane } from '../../src/tui/components/JobsPane.tsx';
import { createLocalPipeline } from '../../src/tui/model/local.ts';
import { runCli } from '../helpers/cli.ts';
import { startFakeEmr, type FakeEmr } from '../helpers/fake-emr.ts';
import { useMoto } from '../helpers/moto.ts';

// EMR calls go to the fake endpoint (clusters that progress), S3 (code, logs) to moto_server.
const moto = useMoto();
let fake: FakeEmr;
let s3: S3Client;
let work: string;
const LAKE = 's3://lake/oe';

beforeAll(async () => {
  s3 = new S3Client({ endpoint: moto().endpoint, forcePathStyle: true, region: 'us-east-1' });
  await s3.send(new CreateBucketCommand({ Bucket: 'lake' }));
  // Raw objects of the hours the clusters are for (`emr run` refuses an hour without any).
  for (const hour of ['06', '07']) {
    await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: `oe/raw/2026/11/28/${hour}/w-1-1.ndjson`, Body: '{"id":"e1","mtime":1}\n' }));
  }
  // The fake writes a failed step's stderr where EMR would: <LogUri><cluster>/steps/<step>/stderr.gz.
  fake = await startFakeEmr({
    putLog: async (uri, gzipped, body) => {
      const m = /^s3n?:\/\/([^/]+)\/(.*)$/.exec(uri)!;
      await s3.send(new PutObjectCommand({ Bucket: m[1], Key: m[2], Body: gzipped ? gzipSync(body) : body }));
    },
  });
  work = mkdtempSync(path.join(tmpdir(), 'oe-emr-fake-'));
});
afterAll(async () => {
  await fake?.close();
  s3?.destroy();
  rmSync(work, { recursive: true, force: true });
});
afterEach(() => cleanup());

const env = (): NodeJS.ProcessEnv => ({
  ...process.env,
  ...moto().env,
  AWS_ENDPOINT_URL_EMR: fake.endpoint,
  OPENEVENTS_LAKE: LAKE,
  OPENEVENTS_AWS_EMR_POLL_SECONDS: '1',
});
const cli = (args: string[]) => runCli(args, { env: env(), cwd: work });

describe('EMR clusters that progress (fake EMR endpoint)', () => {
  it('emr run --wait polls the cluster through STARTING → BOOTSTRAPPING → RUNNING → TERMINATED, then finds no result to commit', async () => {
    // (the step does nothing here, so the hour has no result and fails, named: test/emr/s3a.test.ts
    // runs the step for real and commits its results)
    fake.next = { tickMs: 3_000 };
    const run = await cli(['emr', 'run', '--hour', '2026-11-28T06', '--wait']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error: 1 hour(s) failed: 2026-11-28T06');
    const clusterId = /started cluster (j-\w+)/.exec(run.stdout)?.[1];
    expect(clusterId).toBeDefined();
    // Each progress line names the cluster state; the states seen, in order, without repeats.
    const states = run.stdout
      .split('\n')
      .map((l) => new RegExp(`${clusterId} (\\w+)`).exec(l)?.[1])
      .filter((s): s is string => s !== undefined)
      .filter((s, i, all) => all[i - 1] !== s);
    expect(states).toEqual(['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'TERMINATING', 'TERMINATED']);

    const status = JSON.parse((await cli(['emr', 'status', clusterId!, '--json'])).stdout);
    expect(status.job).toMatchObject({ id: clusterId, runner: 'emr', state: 'succeeded', kind: 'emr', key: '2026-11-28T06/etl' });
    expect(status.job.cluster).toMatchObject({ state: 'TERMINATED', stateChangeReason: { code: 'ALL_STEPS_COMPLETED' } });
    expect(status.job.cluster.normalizedInstanceHours).toBeGreaterThan(0);
    expect(status.job.steps.map((s: { nativeState: string; state: string }) => [s.nativeState, s.state])).toEqual([['COMPLETED', 'succeeded']]);
    expect(status.failedStepLog).toBeUndefined();
  });

  it('a failed step: exit 1 with its FailureDetails; emr status shows the cluster reason, the failure and the stderr tail from LogUri', async () => {
    const stderr = ['25/11/28 06:01:02 INFO SparkContext: Running Spark', 'Traceback (most recent call last):', '  File "etl.py", line 3', 'ValueError: no raw data for 2026-11-28T07 \u001b[31mred\u001b[0m'].join('\n');
    fake.next = { tickMs: 300, failStep: { index: 0, reason: 'Unknown Error.', message: 'Step failed with exitCode 1.', stderr } };
    const run = await cli(['emr', 'run', '--hour', '2026-11-28T07', '--wait']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('failed: etl 2026-11-28T07: Unknown Error. — Step failed with exitCode 1.');
    const clusterId = /started cluster (j-\w+)/.exec(run.stdout)![1]!;

    const json = JSON.parse((await cli(['emr', 'status', clusterId, '--json'])).stdout);
    expect(json.job.state).toBe('failed');
    expect(json.job.cluster).toMatchObject({ state: 'TERMINATED_WITH_ERRORS', stateChangeReason: { code: 'STEP_FAILURE', message: 'Shut down as step failed' } });
    const [step] = json.job.steps;
    expect(step).toMatchObject({ nativeState: 'FAILED', state: 'failed', failure: { reason: 'Unknown Error.', message: 'Step failed with exitCode 1.' } });
    expect(step.failure.logFile).toBe(`s3://lake/oe/_emr/logs/${clusterId}/steps/${step.stepId}/stderr.gz`);
    expect(step.logs).toBe(`s3n://lake/oe/_emr/logs/${clusterId}/steps/${step.stepId}/`);
    expect(json.failedStepLog).toContain('ValueError: no raw data for 2026-11-28T07');

    const text = await cli(['emr', 'status', clusterId]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('TERMINATED_WITH_ERRORS (failed)');
    expect(text.stdout).toContain('reason: STEP_FAILURE: Shut down as step failed');
    expect(text.stdout).toContain('failure: Unknown Error. — Step failed with exitCode 1.');
    expect(text.stdout).toContain('| ValueError: no raw data for 2026-11-28T07 red');
    expect(text.stdout).not.toContain('\u001b'); // the log is someone else's text

    const logs = await cli(['emr', 'logs', clusterId]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('Traceback (most recent call last):');
  });

  it('status --json on the aws profile lists the clusters as jobs, shaped like local ones', async () => {
    const status = await runCli(['status', '--json'], { env: { ...env(), OPENEVENTS_PROFILE: 'aws' }, cwd: work });
    expect(status.code).toBe(0);
    const jobs = JSON.parse(status.stdout).panes.jobs.data as Array<Record<string, unknown>>;
    const emr = jobs.filter((j) => j.runner === 'emr');
    expect(emr.map((j) => [j.label, j.state, j.phase])).toEqual([
      ['emr etl 2026-11-28T07', 'failed', 'TERMINATED_WITH_ERRORS'],
      ['emr etl 2026-11-28T06', 'succeeded', 'TERMINATED'],
    ]);
    expect(emr[0]).toMatchObject({ kind: 'emr', hours: ['2026-11-28T07'], reason: 'etl 2026-11-28T07: Unknown Error. — Step failed with exitCode 1.' });
  });

  it('the Jobs pane shows an EMR job through the EMR job runner as it shows a local one: state, cluster state, reason, logs', async () => {
    const config = loadConfig({ env: { OPENEVENTS_LAKE: LAKE }, cwd: work });
    const settings = { ...emrSettings(config), pollSeconds: 1 };
    const runner = new EmrJobRunner({
      emr: new EMRClient({ endpoint: fake.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }),
      s3,
      settings,
      cacheMs: 0,
    });
    fake.next = { tickMs: 300, failStep: { index: 0, message: 'Step failed with exitCode 2.' } };
    const batch = { index: 0, hours: ['2026-11-28T08'], inputs: [], units: { '2026-11-28T08': '2026-11-28' }, processedAt: new Date() };
    const job = await runner.start(pipelineJob(settings, '2026-11-28T08', ['etl'], { etl: etlPlan(settings, [batch]) }));
    expect(job.state).toBe('pending');
    const ended = await runner.wait(job.id, { pollMs: 200, timeoutMs: 30_000 });
    expect(ended.state).toBe('failed');

    const local = mkdtempSync(path.join(tmpdir(), 'oe-emr-lake-'));
    try {
      const pipeline = await createLocalPipeline({ config: loadConfig({ env: { OPENEVENTS_LAKE: local }, cwd: work }), cwd: work, otherRunners: [runner] });
      const views = await pipeline.sources.jobs.fetch();
      const view = views.find((v) => v.id === job.id)!;
      expect(view).toMatchObject({
        runner: 'emr',
        state: 'failed',
        phase: 'TERMINATED_WITH_ERRORS',
        clusterId: job.id,
        hours: ['2026-11-28T08'],
        hourResults: { '2026-11-28T08': 'failed' },
        steps: { done: 0, total: 1, failed: 'etl 2026-11-28T08' },
        reason: 'etl 2026-11-28T08: Unknown Error. — Step failed with exitCode 2.',
      });
      expect(view.logs).toMatch(new RegExp(`/${job.id}/steps/s-\\w+/stderr.gz$`));
      const pane = render(<JobsPane pane={{ data: views, stale: false }} width={110} lines={6} focused selected={views.indexOf(view)} nowMs={Date.now()} />);
      const frame = pane.lastFrame() ?? '';
      expect(frame).toMatch(/failed\s+emr etl 2026-11-28T08 \[TERMINATED_WITH_ERRORS 0\/1 steps \d+ NIH\]/);
      expect(frame).toContain('why: etl 2026-11-28T08: Unknown Error. — Step failed with exitCode 2.');
      expect(frame).toContain(`logs: s3://lake/oe/_emr/logs/${job.id}/steps/`);
    } finally {
      rmSync(local, { recursive: true, force: true });
    }
  });
});
