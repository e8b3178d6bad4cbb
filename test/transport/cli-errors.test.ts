import { CreateDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { awsClient, s3Client } from '../../src/aws/clients.ts';
import { createGenerator } from '../../src/source/generator.ts';
import { replayFeed, type CaptureRecord } from '../../src/source/replay.ts';
import { startSourceServer } from '../../src/source/server.ts';
import { expectUserError, runCli } from '../helpers/cli.ts';
import { freePort } from '../helpers/moto.ts';
import { readQuarantine } from '../helpers/stream-lake.ts';
import { createBucket, createStream, kinesisClient, readObjects, readStreamRecords, useMotoBehindProxy } from './kinesis-helpers.ts';

const env = useMotoBehindProxy();

beforeAll(async () => {
  await createStream(kinesisClient(), 'cli-k', 1);
  await createBucket(s3Client(), 'cli-f');
  const firehose = awsClient('firehose', FirehoseClient);
  await firehose.send(
    new CreateDeliveryStreamCommand({
      DeliveryStreamName: 'cli-f',
      ExtendedS3DestinationConfiguration: { BucketARN: 'arn:aws:s3:::cli-f', RoleARN: 'arn:aws:iam::123456789012:role/firehose', Prefix: 'lake/raw/' },
    }),
  );
  firehose.destroy();
});

/** The CLI's environment: moto behind the proxy, test credentials, fast reconnects; `extra` overrides (undefined removes). */
function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, OPENEVENTS_PROFILE: 'local', OPENEVENTS_STREAM_BACKOFF_INITIAL_MS: '20', OPENEVENTS_STREAM_BACKOFF_MAX_MS: '200', ...extra };
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete out[k];
  return out;
}

/** A lake folder that does not exist yet. */
let lakes = 0;
function freshLake(): string {
  return path.join(env().work, `lake-${++lakes}`);
}

/** Runs the CLI and checks the shape of a user-fixable failure (exit 1, an error and a hint line, no stack); `output` is all it printed. */
async function fails(args: string[], extra: Record<string, string | undefined> = {}): Promise<{ error: string; hint: string; output: string }> {
  const run = await runCli(args, { cwd: env().work, env: cliEnv(extra) });
  return { ...expectUserError(run), output: run.stdout + run.stderr };
}

/** Every file under a folder (none when it does not exist). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

const NO_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: undefined,
  AWS_SECRET_ACCESS_KEY: undefined,
  AWS_SESSION_TOKEN: undefined,
  AWS_PROFILE: undefined,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: '/nonexistent',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
};

describe('transport commands on bad input: one line naming the resource, a hint, exit 1, nothing written', { timeout: 600_000 }, () => {
  it('a Kinesis stream or delivery stream that does not exist — or lives in another region', async () => {
    const server = await startSourceServer({ generate: { seed: 3, count: 50 } });
    try {
      const lake = freshLake();
      const streamed = await fails(['stream', '--url', server.url, '--lake', lake, '--sink', 'kinesis', '--kinesis-stream', 'no-such-stream']);
      expect(streamed.error).toBe('error: the Kinesis stream "no-such-stream" does not exist in us-east-1');
      expect(streamed.hint).toBe('hint: create it with `openevents infra up`, or check the name and aws.region (OPENEVENTS_AWS_REGION)');
      // The stream exists in us-east-1 only; the name comes from the config this time
      const elsewhere = await fails(['land', '--lake', lake, '--once'], { OPENEVENTS_AWS_KINESIS_STREAM: 'cli-k', OPENEVENTS_AWS_REGION: 'eu-west-1' });
      expect(elsewhere.error).toBe('error: the Kinesis stream "cli-k" does not exist in eu-west-1');
      const firehose = await fails(['stream', '--url', server.url, '--lake', lake, '--sink', 'firehose', '--delivery-stream', 'no-such-delivery']);
      expect(firehose.error).toBe('error: the Firehose delivery stream "no-such-delivery" does not exist in us-east-1');
      const unnamed = await fails(['stream', '--url', server.url, '--lake', lake, '--sink', 'firehose']);
      expect(unnamed.error).toBe('error: --sink firehose needs a delivery stream');
      expect(unnamed.hint).toBe('hint: pass --delivery-stream NAME, or set aws.firehose.deliveryStream in the config');
      // Nothing was written: no lake, and the source was never read
      expect(await filesUnder(lake)).toEqual([]);
      expect(server.log().events).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('no credentials', async () => {
    const server = await startSourceServer({ generate: { seed: 4, count: 50 } });
    try {
      const lake = freshLake();
      const streamed = await fails(['stream', '--url', server.url, '--lake', lake, '--sink', 'kinesis', '--kinesis-stream', 'cli-k'], NO_CREDENTIALS);
      expect(streamed.error).toBe('error: no AWS credentials were found for DescribeStreamSummary on Kinesis stream "cli-k"');
      expect(streamed.hint).toMatch(/^hint: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
      const firehose = await fails(['stream', '--url', server.url, '--lake', lake, '--sink', 'firehose', '--delivery-stream', 'cli-f'], NO_CREDENTIALS);
      expect(firehose.error).toBe('error: no AWS credentials were found for DescribeDeliveryStream on Firehose delivery stream "cli-f"');
      const landed = await fails(['land', '--kinesis-stream', 'cli-k', '--lake', lake, '--once'], NO_CREDENTIALS);
      expect(landed.error).toBe('error: no AWS credentials were found for DescribeStreamSummary on Kinesis stream "cli-k"');
      expect(await filesUnder(lake)).toEqual([]);
      expect(server.log().events).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('an endpoint that cannot be reached: named without the credentials in its URL, and no secret anywhere in the output', async () => {
    const port = await freePort();
    const secrets = { AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY', AWS_SESSION_TOKEN: 'FwoGZXIvYXdzEXAMPLEsessionTOKENvalue' };
    const unreachable = { ...secrets, AWS_ENDPOINT_URL: `http://operator:hunter2secret@127.0.0.1:${port}` };
    const lake = freshLake();
    const source = 'http://127.0.0.1:9/2/open_events?token=s3cr3t-source-token';
    const runs = [
      await fails(['stream', '--url', source, '--lake', lake, '--sink', 'kinesis', '--kinesis-stream', 'cli-k'], unreachable),
      await fails(['stream', '--url', source, '--lake', lake, '--sink', 'firehose', '--delivery-stream', 'cli-f'], unreachable),
      await fails(['land', '--kinesis-stream', 'cli-k', '--lake', lake, '--once'], unreachable),
    ];
    expect(runs[0]!.error).toBe(`error: cannot reach Kinesis at http://***@127.0.0.1:${port}/ (ECONNREFUSED) for DescribeStreamSummary on Kinesis stream "cli-k"`);
    expect(runs[1]!.error).toBe(`error: cannot reach Firehose at http://***@127.0.0.1:${port}/ (ECONNREFUSED) for DescribeDeliveryStream on Firehose delivery stream "cli-f"`);
    expect(runs[2]!.error).toBe(runs[0]!.error);
    for (const run of runs) {
      expect(run.hint).toBe('hint: check the network, aws.endpointUrl / AWS_ENDPOINT_URL and aws.region');
      for (const secret of ['hunter2secret', 's3cr3t-source-token', ...Object.values(secrets)]) expect(run.output).not.toContain(secret);
    }
    expect(await filesUnder(lake)).toEqual([]);
  });

  it('records over the service limit are quarantined with the reason; the others arrive; no credential or token in the output or the lake', async () => {
    // Given a source serving three events, the middle one within the streamer's 1 MiB limit but over the sink's, behind a URL with a token
    const events = [...createGenerator({ seed: 9, count: 3 })];
    const sized = (id: string, mtime: number, bytes: number): string => {
      const head = JSON.stringify({ id, mtime, name: '' }).slice(0, -2);
      return `${head}${'x'.repeat(bytes - Buffer.byteLength(head) - 2)}"}`;
    };
    const secrets = { AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY', AWS_SESSION_TOKEN: 'FwoGZXIvYXdzEXAMPLEsessionTOKENvalue' };
    const cases = [
      // Kinesis counts data and partition key against 1 MiB: 1 MiB − 3 bytes of data and a 5-character key are over
      { sink: 'kinesis', target: ['--kinesis-stream', 'cli-k'], big: sized('big-k', events[1]!.mtime, 1024 * 1024 - 3), reason: /^oversized record: 1048578 bytes with its partition key > the 1048576-byte record limit of Kinesis stream "cli-k"/ },
      // Firehose counts the record as sent, its newline included, against 1,000 KiB
      { sink: 'firehose', target: ['--delivery-stream', 'cli-f'], big: sized('big-f', events[1]!.mtime, 1000 * 1024), reason: /^oversized record: 1024001 bytes with its newline > the 1024000-byte record limit of Firehose/ },
    ];
    for (const c of cases) {
      const records: CaptureRecord[] = [
        { bytes: Buffer.from(events[0]!.line), id: events[0]!.id, mtime: events[0]!.mtime },
        { bytes: Buffer.from(c.big), id: JSON.parse(c.big).id as string, mtime: events[1]!.mtime },
        { bytes: Buffer.from(events[2]!.line), id: events[2]!.id, mtime: events[2]!.mtime },
      ];
      const server = await startSourceServer({ feed: replayFeed(records) });
      const lake = freshLake();
      try {
        // When streamed through the sink by the CLI
        const url = `${server.url}?token=s3cr3t-source-token`;
        const run = await runCli(['stream', '--url', url, '--lake', lake, '--sink', c.sink, ...c.target, '--max-events', '3', '--json'], { cwd: env().work, env: cliEnv(secrets) });
        expect(run.code, run.stderr).toBe(0);

        // Then the big record is in quarantine with why, whole; the summary counts it
        const summary = JSON.parse(run.stdout) as { invalid: number; durable: number };
        expect(summary.invalid, c.sink).toBe(1);
        const quarantined = await readQuarantine(lake);
        expect(quarantined, c.sink).toHaveLength(1);
        expect(quarantined[0]!.reason).toMatch(c.reason);
        expect(quarantined[0]!.length).toBe(Buffer.byteLength(c.big));

        // And no secret reached the terminal or any file of the lake (checkpoint, telemetry, quarantine)
        const files = await filesUnder(lake);
        expect(files.length).toBeGreaterThan(0);
        const written = (await Promise.all(files.map((f) => readFile(f, 'utf8')))).join('\n');
        // (the checkpoint and the quarantine entry name the source: with its token hidden)
        expect(written).toContain('?token=***');
        for (const secret of ['s3cr3t-source-token', ...Object.values(secrets)]) {
          expect(run.stdout + run.stderr, c.sink).not.toContain(secret);
          expect(written, c.sink).not.toContain(secret);
        }
      } finally {
        await server.close();
      }
    }
    // And the two small events of each run reached their service, the big ones did not
    const stored = (await readStreamRecords(kinesisClient(), 'cli-k')).map((r) => r.key);
    expect(stored).toEqual([events[0]!.id, events[2]!.id]);
    const delivered = (await readObjects(s3Client({ endpointUrl: env().moto.endpoint }), 'cli-f', 'lake/raw/')).flatMap((o) => o.text.split('\n').filter(Boolean));
    expect(delivered.map((l) => (JSON.parse(l) as { id: string }).id).sort()).toEqual([events[0]!.id, events[2]!.id].sort());
  });
});
