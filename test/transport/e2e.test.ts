import { CreateDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import { describe, expect, it } from 'vitest';
import { awsClient, s3Client } from '../../src/aws/clients.ts';
import { createGenerator } from '../../src/source/generator.ts';
import { startSourceServer } from '../../src/source/server.ts';
import { runCli } from '../helpers/cli.ts';
import { createBucket, createStream, kinesisClient, pairsOf, readObjects, useMotoBehindProxy } from './kinesis-helpers.ts';

const env = useMotoBehindProxy();

/** Child processes reach moto through the proxy (AWS_ENDPOINT_URL) with test credentials. */
function cliEnv(): NodeJS.ProcessEnv {
  return { ...process.env, OPENEVENTS_STREAM_BACKOFF_INITIAL_MS: '20', OPENEVENTS_STREAM_BACKOFF_MAX_MS: '200' };
}

async function cli(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<string> {
  const out = await runCli(args, { cwd: env().work, env: { ...cliEnv(), ...extra } });
  expect(out.code, `openevents ${args.join(' ')}\n${out.stderr}`).toBe(0);
  return out.stdout;
}

/** The distinct event ids in the curated tables, by SQL through the CLI. */
async function curatedIds(lake: string): Promise<Set<string>> {
  const rows = JSON.parse(await cli(['query', '--lake', lake, '--format', 'json', 'SELECT DISTINCT event_id FROM event_changes'])) as Array<{ event_id: string }>;
  return new Set(rows.map((r) => r.event_id));
}

describe('end to end against moto_server', () => {
  it('source → stream --sink kinesis → Kinesis → land → S3 lake → etl → stats: the curated event ids are the ones served', async () => {
    // Given a generated source of 2,000 records, a 2-shard stream and an empty bucket
    const generate = { seed: 41, count: 2000 };
    const distinct = new Set([...createGenerator(generate)].map((r) => `${r.id} ${r.mtime}`)).size;
    const server = await startSourceServer({ generate });
    try {
      await createStream(kinesisClient(), 'e2e-k', 2);
      await createBucket(s3Client(), 'e2e-k');
      const lake = 's3://e2e-k/lake';

      // When the streamer puts everything to Kinesis and the lander drains it into the lake
      const streamed = JSON.parse(await cli(['stream', '--url', server.url, '--lake', lake, '--sink', 'kinesis', '--kinesis-stream', 'e2e-k', '--max-events', String(distinct), '--json', '-q'])) as {
        durable: number;
        sink: string;
      };
      expect(streamed.sink).toBe('kinesis Kinesis stream "e2e-k"');
      const landed = JSON.parse(await cli(['land', '--kinesis-stream', 'e2e-k', '--lake', lake, '--once', '--json', '-q'])) as { records: number; stoppedBy: string };
      expect(landed.stoppedBy).toBe('drained');
      expect(landed.records).toBe(streamed.durable);

      // Then the raw lake holds each served (id, mtime) once, and after etl the curated ids are exactly the served ones
      const raw = (await readObjects(s3Client(), 'e2e-k', 'lake/raw/')).filter((o) => !o.key.endsWith('_manifest.json'));
      const pairs = pairsOf(raw.flatMap((o) => o.text.split('\n')));
      const served = server.log().events;
      expect(pairs.length).toBe(distinct);
      expect(new Set(pairs)).toEqual(new Set(served.map((e) => `${e.id} ${e.mtime}`)));
      await cli(['etl', '--lake', lake, '--all', '--json']);
      const stats = JSON.parse(await cli(['stats', '--lake', lake, '--json'])) as { totals: { eventsReceived: number; uniqueEvents: number } };
      const ids = await curatedIds(lake);
      expect(ids).toEqual(new Set(served.map((e) => e.id)));
      expect(stats.totals.eventsReceived).toBe(distinct);
      expect(stats.totals.uniqueEvents).toBe(ids.size);
    } finally {
      await server.close();
    }
  }, 400_000);

  it('source → stream --sink firehose → Firehose → S3 YYYY/MM/DD/HH/ objects → etl → stats: the lake reads what Firehose wrote', async () => {
    // Given a generated source, an empty bucket and a delivery stream writing under the lake's raw/ prefix, named in the config (not a flag)
    const generate = { seed: 43, count: 1500 };
    const distinct = new Set([...createGenerator(generate)].map((r) => `${r.id} ${r.mtime}`)).size;
    const server = await startSourceServer({ generate });
    const firehose = awsClient('firehose', FirehoseClient);
    try {
      await createBucket(s3Client(), 'e2e-f');
      await firehose.send(
        new CreateDeliveryStreamCommand({
          DeliveryStreamName: 'e2e-f',
          ExtendedS3DestinationConfiguration: { BucketARN: 'arn:aws:s3:::e2e-f', RoleARN: 'arn:aws:iam::123456789012:role/firehose', Prefix: 'lake/raw/' },
        }),
      );
      const lake = 's3://e2e-f/lake';
      const config = { OPENEVENTS_AWS_FIREHOSE_DELIVERY_STREAM: 'e2e-f' };

      // When the streamer puts everything to Firehose
      const streamed = JSON.parse(await cli(['stream', '--url', server.url, '--lake', lake, '--sink', 'firehose', '--max-events', String(distinct), '--json', '-q'], config)) as {
        durable: number;
        sink: string;
      };
      expect(streamed.sink).toBe('firehose Firehose delivery stream "e2e-f"');
      expect(streamed.durable).toBe(distinct);

      // Then Firehose's own objects sit in hour folders under raw/, holding each served (id, mtime) once
      const raw = await readObjects(s3Client(), 'e2e-f', 'lake/raw/');
      expect(raw.length).toBeGreaterThan(0);
      for (const o of raw) expect(o.key).toMatch(/^lake\/raw\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/e2e-f-\d+-\d{4}(?:-\d{2}){5}-[0-9a-f-]+$/);
      const served = server.log().events;
      const pairs = pairsOf(raw.flatMap((o) => o.text.split('\n')));
      expect(pairs.length).toBe(distinct);
      expect(new Set(pairs)).toEqual(new Set(served.map((e) => `${e.id} ${e.mtime}`)));

      // And the lake reads them as they are: lake ls lists the hours, etl and stats see every event
      const listed = JSON.parse(await cli(['lake', 'ls', '--lake', lake, '--json'])) as Array<{ hour: string; files: number; records: number }>;
      const hourOf = (key: string): string => key.replace(/^lake\/raw\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/.*$/, '$1-$2-$3T$4');
      expect(listed.map((h) => h.hour)).toEqual([...new Set(raw.map((o) => hourOf(o.key)))].sort());
      expect(listed.reduce((n, h) => n + h.files, 0)).toBe(raw.length);
      expect(listed.reduce((n, h) => n + h.records, 0)).toBe(distinct);
      await cli(['etl', '--lake', lake, '--all', '--json']);
      const stats = JSON.parse(await cli(['stats', '--lake', lake, '--json'])) as { totals: { eventsReceived: number } };
      expect(await curatedIds(lake)).toEqual(new Set(served.map((e) => e.id)));
      expect(stats.totals.eventsReceived).toBe(distinct);
    } finally {
      firehose.destroy();
      await server.close();
    }
  }, 400_000);
});
