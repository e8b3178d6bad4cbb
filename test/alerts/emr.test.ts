import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { EMRClient } from '@aws-sdk/client-emr';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/rules.ts';
import { loadConfig } from '../../src/config/load.ts';
import { pipelineJob } from '../../src/emr/pipeline.ts';
import { emrSettings } from '../../src/emr/settings.ts';
import { etlPlan } from '../../src/etl/engines/emr.ts';
import { EmrJobRunner } from '../../src/jobs/emr.ts';
import { runCli } from '../helpers/cli.ts';
import { startFakeEmr, type FakeEmr } from '../helpers/fake-emr.ts';
import { useMoto } from '../helpers/moto.ts';
import { describeWith } from '../helpers/requires.ts';
import { tempDirs } from '../helpers/temp.ts';

// The aws profile for real: the lake in S3 and telemetry in CloudWatch Logs on moto_server, EMR
// at the fake endpoint whose clusters progress and fail as EMR's do.
const moto = useMoto();
const tmp = tempDirs('oe-alerts-emr-');
const LAKE = 's3://lake/oe';
let fake: FakeEmr;
let s3: S3Client;
let work: string;

beforeAll(async () => {
  s3 = new S3Client({ endpoint: moto().endpoint, forcePathStyle: true, region: 'us-east-1' });
  await s3.send(new CreateBucketCommand({ Bucket: 'lake' }));
  const logs = new CloudWatchLogsClient({ endpoint: moto().endpoint, region: 'us-east-1' });
  await logs.send(new CreateLogGroupCommand({ logGroupName: '/openevents' }));
  logs.destroy();
  fake = await startFakeEmr({
    putLog: async (uri, gzipped, body) => {
      const m = /^s3n?:\/\/([^/]+)\/(.*)$/.exec(uri)!;
      await s3.send(new PutObjectCommand({ Bucket: m[1], Key: m[2], Body: gzipped ? gzipSync(body) : body }));
    },
  });
  work = tmp();
});
afterAll(async () => {
  await fake?.close();
  s3?.destroy();
});

const cli = (args: string[]) =>
  runCli(args, {
    cwd: work,
    env: { ...process.env, ...moto().env, AWS_ENDPOINT_URL_EMR: fake.endpoint, OPENEVENTS_PROFILE: 'aws', OPENEVENTS_LAKE: LAKE, OPENEVENTS_AWS_EMR_POLL_SECONDS: '1' },
  });

/** Starts a cluster for `hour` through the EMR job runner and waits for its end (as `emr run --wait` does, without committing results). */
async function cluster(hour: string): Promise<{ id: string; state: string }> {
  const settings = { ...emrSettings(loadConfig({ env: { OPENEVENTS_LAKE: LAKE }, cwd: work })), pollSeconds: 1 };
  const runner = new EmrJobRunner({ emr: new EMRClient({ endpoint: fake.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }), s3, settings, cacheMs: 0 });
  const batch = { index: 0, hours: [hour], inputs: [], units: { [hour]: hour.slice(0, 10) }, processedAt: new Date() };
  const job = await runner.start(pipelineJob(settings, hour as never, ['etl'], { etl: etlPlan(settings, [batch]) }));
  return runner.wait(job.id, { pollMs: 200, timeoutMs: 60_000 });
}

const alertsOf = async (): Promise<{ code: number | null; alerts: Alert[] }> => {
  const run = await cli(['alerts', '--json']);
  expect(run.stderr).not.toContain('bug');
  return { code: run.code, alerts: (JSON.parse(run.stdout) as { alerts: Alert[] }).alerts };
};

describeWith(['venv'], 'the job-failed alert for an EMR cluster (fake EMR endpoint, moto_server)', () => {
  it('is quiet for a cluster that succeeded; fires for one that ended TERMINATED_WITH_ERRORS, with the step\'s FailureDetails and log, as ERROR in CloudWatch Logs, in status; quiet once the same work succeeds', async () => {
    fake.next = { tickMs: 300 };
    expect((await cluster('2026-11-28T06')).state).toBe('succeeded');
    expect(await alertsOf()).toEqual({ code: 0, alerts: [] });

    fake.next = { tickMs: 300, failStep: { index: 0, reason: 'Unknown Error.', message: 'Step failed with exitCode 1.' } };
    const failed = await cluster('2026-11-28T07');
    expect(failed.state).toBe('failed');
    const clusterId = failed.id;
    const status = JSON.parse((await cli(['emr', 'status', clusterId, '--json'])).stdout) as { job: { steps: Array<{ stepId: string }> } };
    const stepId = status.job.steps[0]!.stepId;

    const firing = await alertsOf();
    expect(firing.code).toBe(1);
    expect(firing.alerts).toEqual([
      {
        rule: 'job-failed',
        subject: clusterId,
        message: `EMR cluster ${clusterId} (emr etl 2026-11-28T07) failed [TERMINATED_WITH_ERRORS]: etl 2026-11-28T07: Unknown Error. — Step failed with exitCode 1. (log: s3://lake/oe/_emr/logs/${clusterId}/steps/${stepId}/stderr.gz)`,
        since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        hint: `\`openevents emr status ${clusterId}\` and \`openevents emr logs ${clusterId}\``,
      },
    ]);

    // Written as ERROR records to the profile's telemetry: CloudWatch Logs, read back by `logs`
    const logs = await cli(['logs', '--component', 'alerts', '--level', 'error', '--json', '--since', '1h']);
    expect(logs.code).toBe(0);
    const records = logs.stdout.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string; data: Alert });
    expect(records.map((r) => [r.level, r.data.rule, r.data.subject])).toEqual([['error', 'job-failed', clusterId]]);
    expect(records[0]!.msg).toBe(`ALERT job-failed ${clusterId}: ${firing.alerts[0]!.message}`);

    // The monitor's model (status) carries the same alert for the banner
    const snapshot = JSON.parse((await cli(['status', '--json'])).stdout) as { alerts: { data: { alerts: Alert[] } } };
    expect(snapshot.alerts, JSON.stringify(snapshot.alerts)).toMatchObject({ stale: false });
    expect(snapshot.alerts.data.alerts.map((a) => [a.rule, a.subject])).toEqual([['job-failed', clusterId]]);

    // The same work (hour and steps) run again and succeeding: quiet
    fake.next = { tickMs: 300 };
    expect((await cluster('2026-11-28T07')).state).toBe('succeeded');
    expect(await alertsOf()).toEqual({ code: 0, alerts: [] });
  }, 180_000);
});
