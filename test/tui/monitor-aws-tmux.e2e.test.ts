import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeImagesCommand, EC2Client, RunInstancesCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { awsClient } from '../../src/aws/clients.ts';
import { STREAMER_TAG } from '../../src/ec2/settings.ts';
import { hourIdOf, hourPath } from '../../src/lake/layout.ts';
import { CloudWatchTelemetry, CloudWatchTelemetryReader } from '../../src/telemetry/cloudwatch.ts';
import { startAwsProxy, type AwsProxy } from '../helpers/aws-proxy.ts';
import { OPENEVENTS, runCli, spawnCli, waitForLine } from '../helpers/cli.ts';
import { startFakeEmr, type FakeEmr } from '../helpers/fake-emr.ts';
import { useMoto } from '../helpers/moto.ts';
import { describeWith } from '../helpers/requires.ts';
import { tempDirs } from '../helpers/temp.ts';
import { createTmux } from '../helpers/tui-tmux.ts';

/**
 * The monitor on the aws profile, end to end, as an operator uses it: a real terminal (tmux); S3,
 * CloudWatch Logs, Kinesis and EC2 on moto_server (behind a proxy the test can kill); EMR on the
 * fake endpoint whose clusters walk their states; the real streamer writing into the S3 lake; the
 * EC2 streamer's instance started with `s`, EMR runs submitted with `e`, every action audited to
 * CloudWatch Logs.
 */
describeWith(['tmux', 'venv'], 'monitor in tmux on the aws profile (moto_server + fake EMR)', () => {
  const moto = useMoto();
  const temp = tempDirs('oe-tui-aws-');
  const tmux = createTmux(`oe-tui-aws-${process.pid}`);
  const BUCKET = 'oe-monitor';
  const LAKE = `s3://${BUCKET}/lake`;
  const GROUP = '/openevents';
  let work: string;
  let fake: FakeEmr;
  let proxy: AwsProxy;
  let source: ChildProcess | undefined;
  let s3: S3Client;
  let logs: CloudWatchLogsClient;
  let telemetry: CloudWatchTelemetry;
  let lander: NodeJS.Timeout | undefined;
  let instanceId: string;
  let streamer: ChildProcess | undefined;

  beforeAll(async () => {
    work = temp();
    const options = { endpointUrl: moto().endpoint, region: 'us-east-1' };
    s3 = awsClient('s3', S3Client, options);
    logs = awsClient('cloudwatch_logs', CloudWatchLogsClient, options);
    const kinesis = awsClient('kinesis', KinesisClient, options);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await logs.send(new CreateLogGroupCommand({ logGroupName: GROUP }));
    await kinesis.send(new CreateStreamCommand({ StreamName: 'openevents', ShardCount: 2 }));
    kinesis.destroy();
    // The EC2 streamer's instance, found by its tag, stopped: `s` starts it.
    const ec2 = awsClient('ec2', EC2Client, options);
    const imageId = (await ec2.send(new DescribeImagesCommand({}))).Images!.find((i) => i.ImageId)!.ImageId!;
    const run = await ec2.send(
      new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: STREAMER_TAG, Value: 'openevents-streamer' }] }] }),
    );
    instanceId = run.Instances![0]!.InstanceId!;
    await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    ec2.destroy();
    // The fake writes a failed step's stderr where EMR would, into moto's S3.
    fake = await startFakeEmr({
      putLog: async (uri, gzipped, body) => {
        const m = /^s3n?:\/\/([^/]+)\/(.*)$/.exec(uri)!;
        await s3.send(new PutObjectCommand({ Bucket: m[1], Key: m[2], Body: gzipped ? gzipSync(body) : body }));
      },
    });
    // The monitor reaches moto through this proxy: closing it is the endpoint dying.
    proxy = await startAwsProxy(moto().endpoint);
    // The lander's stats, as the lander writes them (it is not part of this test).
    telemetry = new CloudWatchTelemetry({ client: logs, group: GROUP, component: 'land', flushIntervalMs: 200 });
  });

  afterAll(async () => {
    clearInterval(lander);
    tmux.kill();
    await stop(streamer);
    await stop(source);
    await telemetry?.close();
    await proxy?.close();
    await fake?.close();
    s3?.destroy();
    logs?.destroy();
  });

  const stop = (child: ChildProcess | undefined): Promise<void> =>
    new Promise((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });

  it('shows live data in every pane, runs and audits s and e, walks a cluster to its end and a failed step to its reason, and goes stale (not frozen) when the endpoint dies', async () => {
    // Given a generator serving events on loopback, a lander reporting its lag, and a closed hour in the lake
    source = spawnCli(['source', 'serve', '--generate', '--rate', '200', '--port', '0']);
    const url = (await waitForLine(source, /listening on (\S+)/))[1]!;
    const tmp = path.join(work, 'tmp');
    mkdirSync(tmp);
    const now = Date.now();
    const closed = hourIdOf(now - 3 * 3_600_000);
    const rawKey = `lake/raw/${hourPath(closed)}/w0-1-40.ndjson.gz`;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: rawKey, Body: gzipSync('{"id":"1"}\n') }));
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `lake/raw/${hourPath(closed)}/_manifest.json`,
        Body: JSON.stringify({ hour: closed, closedAt: new Date(now).toISOString(), files: [{ key: rawKey.slice(5), records: 40, bytes: 31 }], records: 40, bytes: 31 }),
      }),
    );
    const landStats = (): void =>
      telemetry.emit({ level: 'info', component: 'land', kind: 'stats', msg: 'land stats', data: { stream: 'openevents', recordsPerSec: 180, records: 9000, lagMs: 4200, shards: [{}, {}], state: 'running' } });
    landStats();
    lander = setInterval(landStats, 1_000);
    telemetry.emit({ level: 'warn', component: 'land', kind: 'log', msg: 'shard shardId-000000000001: throttled, retrying' });

    // And the monitor on the aws profile in a 140×44 terminal
    const env = {
      ...moto().env,
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_ENDPOINT_URL_EMR: fake.endpoint,
      OPENEVENTS_PROFILE: 'aws',
      OPENEVENTS_LAKE: LAKE,
      OPENEVENTS_SOURCE_URL: url,
      OPENEVENTS_STREAM_ROTATE_AGE_MS: '2000',
      OPENEVENTS_STREAM_STATS_INTERVAL_MS: '1000',
      OPENEVENTS_MONITOR_REFRESH_MS: '500',
      OPENEVENTS_AWS_EMR_POLL_SECONDS: '1',
      // The streamer's files being written (an S3 lake's go to the temp folder) stay in this test's folder.
      TMPDIR: tmp,
    };
    const vars = Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    tmux.start(`cd ${work} && env ${vars} ${process.execPath} ${OPENEVENTS} monitor; echo MONITOR-EXIT=$?; sleep 120`, 140, 44);
    await tmux.waitFor((s) => s.includes('openevents monitor · aws') && s.includes('s start stream'), 'the monitor on the aws profile');

    // Then the Stream pane shows Kinesis and the lander, the Logs pane CloudWatch's lines, the Lake pane the S3 hours
    const closedCell = new RegExp(`${closed.slice(11)} waiting\\s+1f\\s+40\\s+31B late`);
    await tmux.waitFor(
      (s) => /kinesis 2 open shards/.test(s) && /lander running 180 rec\/s lag 4s/.test(s) && s.includes('throttled, retrying') && closedCell.test(s),
      'kinesis, lander, logs and the lake',
    );

    // And a streamer writing into the S3 lake, as the one on the instance would (its stats go to CloudWatch Logs)
    streamer = spawnCli(['stream'], { env: { ...process.env, ...env }, cwd: work });
    await tmux.waitFor((s) => /● running\s+[\d.]+k? ev\/s/.test(s), 'the streamer running');
    // The stopped instance: s offers to start it
    await tmux.waitFor((s) => s.includes(`${instanceId} stopped`) && s.includes('s start stream'), 'the stopped EC2 streamer');

    // When s is pressed (and confirmed: it starts paid compute on this profile), the EC2 streamer starts
    tmux.send('s');
    await tmux.waitFor((s) => s.includes('Start the streamer?'), 'the y/N question');
    tmux.send('y');
    await tmux.waitFor((s) => s.includes(`starting the EC2 streamer ${instanceId}`), 'the start notice');
    await tmux.waitFor((s) => new RegExp(`${instanceId} (pending|running)`).test(s) && s.includes('s stop stream'), 'the instance starting');

    // Then the open hour fills: first with what the streamer holds, then with objects as they arrive in S3
    const current = hourIdOf(Date.now());
    const objects = (screen: string): number => Number(new RegExp(`^${current}\\s+(\\d+) files?`, 'm').exec(screen)?.[1] ?? 0);
    await tmux.waitFor((s) => new RegExp(`^${current}\\s.*received, not written yet`, 'm').test(s) || objects(s) > 0, 'the open hour filling');
    const one = await tmux.waitFor((s) => objects(s) >= 1, 'an object in the open hour');
    await tmux.waitFor((s) => objects(s) > objects(one), 'more objects in the open hour', 90_000);

    // When e is pressed on the open hour and confirmed, an EMR cluster starts and walks its states
    fake.next = { tickMs: 4_000 };
    tmux.send('e');
    await tmux.waitFor((s) => s.includes(`Run ETL for ${current}?`), 'the ETL question');
    tmux.send('y');
    const clusterRow = new RegExp(`etl ${current} \\[(\\w+) (\\d)/1 steps (\\d+) NIH\\]`);
    const seen = new Set<string>();
    const phase = (screen: string): string | undefined => {
      const state = clusterRow.exec(screen)?.[1];
      if (state) seen.add(state);
      return state;
    };
    await tmux.waitFor((s) => phase(s) === 'RUNNING', 'the cluster running its step', 90_000);
    const ended = await tmux.waitFor((s) => phase(s) === 'TERMINATED', 'the cluster to end', 90_000);
    expect(ended).toMatch(new RegExp(`succeeded\\s+emr etl ${current} \\[TERMINATED 1/1 steps \\d+ NIH\\]`));
    expect([...seen].filter((st) => st !== 'TERMINATING')).toEqual(expect.arrayContaining(['RUNNING', 'TERMINATED']));

    // And the Lake pane (listed every 5 s) calls the hour done
    await tmux.waitFor((s) => new RegExp(`^${current}\\s.*ETL done`, 'm').test(s), 'the hour done');

    // When it runs again with a step that fails, the Jobs pane says why
    fake.next = { tickMs: 1_500, failStep: { index: 0, reason: 'Unknown Error.', message: 'Step failed with exitCode 1.' } };
    tmux.send('e');
    await tmux.waitFor((s) => s.includes(`Run ETL for ${current}?`), 'the ETL question again');
    tmux.send('y');
    const failedRow = new RegExp(`failed\\s+emr etl ${current} \\[TERMINATED_WITH_ERRORS 0/1 steps`);
    const failed = await tmux.waitFor((s) => failedRow.test(s), 'the failed cluster', 90_000);
    expect(failed).toContain(`why: etl ${current}: Unknown Error. — Step failed with exitCode 1.`);
    // And the hour's ETL state is the newest run's: failed, with its reason in the detail line
    await tmux.waitFor((s) => new RegExp(`^${current}\\s.*ETL failed\\s+why: etl`, 'm').test(s) && new RegExp(`▶${current.slice(11)} FAILED`).test(s), 'the hour marked failed');

    // And every action was audited to CloudWatch Logs, with who did what
    const reader = new CloudWatchTelemetryReader(logs, GROUP);
    const audited = async (): Promise<unknown[][]> => (await reader.read({ kind: 'audit', component: 'monitor', sinceMs: now - 60_000 })).map((r) => [r.data?.action, r.data?.target, r.data?.result]);
    const deadline = Date.now() + 30_000;
    while ((await audited()).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    expect(await audited()).toEqual([
      ['stream.start', 'streamer', 'ok'], // the EC2 streamer
      ['etl', current, 'ok'],
      ['etl', current, 'ok'],
    ]);

    // And `status` prints the same model once, off a terminal
    const status = await runCli(['status'], { env: { ...process.env, ...env }, cwd: work });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('kinesis 2 open shards  lander running 180 rec/s lag 4s');
    expect(status.stdout).toMatch(new RegExp(`failed\\s+emr etl ${current}[\\s\\S]*why: etl ${current}: Unknown Error\\.`));

    // When the endpoints die mid-run (moto behind the proxy, and EMR)
    await proxy.close();
    await fake.close();
    // Then every AWS pane turns stale with its error, and the screen keeps refreshing (the clock moves on)
    const stale = await tmux.waitFor((s) => ['Stream', 'Jobs', 'Lake', 'Logs'].every((pane) => new RegExp(`${pane}[^\\n]*STALE`).test(s)), 'all panes stale', 60_000);
    const clock = (screen: string): string | undefined => /· (\d\d:\d\d:\d\d)Z ·/.exec(screen)?.[1];
    await tmux.waitFor((s) => clock(s) !== clock(stale) && clock(s) !== undefined, 'the clock to move on');
    expect(stale).toMatch(/Jobs[^\n]*STALE[^\n]*emr:/);

    // When q is pressed, the monitor exits with 0 anyway
    tmux.send('q');
    await tmux.waitFor((s) => s.includes('MONITOR-EXIT=0'), 'the monitor to exit', 30_000);
  }, 420_000);
});
