import { CreateDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { awsClient, s3Client } from '../../src/aws/clients.ts';
import { configSchema } from '../../src/config/schema.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { createGenerator } from '../../src/source/generator.ts';
import { startSourceServer } from '../../src/source/server.ts';
import { runStreamer } from '../../src/stream/streamer.ts';
import { FirehoseSink } from '../../src/transport/firehose-sink.ts';
import { KinesisSink } from '../../src/transport/kinesis-sink.ts';
import { tally } from '../helpers/stream-lake.ts';
import { createBucket, createStream, kinesisClient, pairsOf, readObjects, readStreamRecords, useMotoBehindProxy } from './kinesis-helpers.ts';

const env = useMotoBehindProxy();

const settings = configSchema.parse({ stream: { stallTimeoutMs: 5000, backoffInitialMs: 20, backoffMaxMs: 200, statsIntervalMs: 500, resumeWindowMs: 400 * 86_400_000 } }).stream;

async function withLake<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oe-faults-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('remote sinks through AWS faults (a proxy in front of moto_server)', () => {
  it('Kinesis: per-entry ErrorCodes, throttled calls, dropped connections and lost answers — every event stored once, versions in order', async () => {
    // Given a generated source, a 2-shard stream, and a proxy failing PutRecords in every way AWS does
    const { proxy, moto } = env();
    const generate = { seed: 51, count: 2500 };
    const expected = new Set([...createGenerator(generate)].map((r) => `${r.id} ${r.mtime}`));
    const server = await startSourceServer({ generate });
    await createStream(kinesisClient(), 'faults-k', 2);
    // (PutRecords calls counted from the first: each fault several times, the rest answered as they are)
    const base = proxy.calls('kinesis.PutRecords');
    const on = (...n: number[]): number[] => n.map((k) => base + k);
    proxy.setRules([
      { service: 'kinesis', operation: 'PutRecords', fault: 'partial', on: on(1, 4, 7, 10, 13), entryShare: 0.2 },
      { service: 'kinesis', operation: 'PutRecords', fault: 'throttle', on: on(2, 8) },
      { service: 'kinesis', operation: 'PutRecords', fault: 'drop-before', on: on(3, 11) },
      { service: 'kinesis', operation: 'PutRecords', fault: 'drop-after', on: on(5, 12) },
      { service: 'kinesis', operation: 'PutRecords', fault: 'internal-error', on: on(6, 14) },
      { service: 'kinesis', operation: 'GetRecords', fault: 'throttle', probability: 0.2 },
    ]);
    const sink = new KinesisSink({ client: kinesisClient({ maxAttempts: 1 }), stream: 'faults-k' });
    try {
      // When the streamer runs until every distinct event is durable
      const summary = await withLake((dir) => runStreamer({ url: server.url, store: new LocalStore(dir), settings, sink, maxEvents: expected.size }));

      // Then every kind of fault happened, the sink retried and settled lost answers, and Kinesis holds each event once
      for (const fault of ['partial', 'throttle', 'drop-before', 'drop-after', 'internal-error']) expect(proxy.injected[`kinesis.PutRecords:${fault}`] ?? 0, fault).toBeGreaterThan(0);
      expect(sink.stats().ambiguous).toBeGreaterThan(0);
      expect(sink.stats().retried).toBeGreaterThan(proxy.failedEntries - 1);
      expect(summary.durable).toBe(expected.size);
      proxy.setRules([]);
      const records = await readStreamRecords(kinesisClient({ endpointUrl: moto.endpoint }), 'faults-k');
      const pairs = records.map((r) => pairsOf([r.data])[0]!);
      expect([...tally(pairs)].filter(([, n]) => n > 1)).toEqual([]);
      expect(new Set(pairs)).toEqual(expected);
      // one event's versions in the order served (first time each)
      const served = new Map<string, number[]>();
      const seen = new Set<string>();
      for (const e of server.log().events) {
        if (seen.has(`${e.id} ${e.mtime}`)) continue;
        seen.add(`${e.id} ${e.mtime}`);
        served.set(e.id, [...(served.get(e.id) ?? []), e.mtime]);
      }
      const stored = new Map<string, number[]>();
      for (const r of [...records].sort((a, b) => (a.shard === b.shard ? Number(a.seq - b.seq) : a.shard < b.shard ? -1 : 1))) {
        stored.set(r.key, [...(stored.get(r.key) ?? []), (JSON.parse(r.data) as { mtime: number }).mtime]);
      }
      expect(stored).toEqual(served);
    } finally {
      proxy.setRules([]);
      await server.close();
    }
  }, 400_000);

  it('Firehose: per-entry ErrorCodes, throttled calls and dropped connections — every event delivered to S3 under YYYY/MM/DD/HH/', async () => {
    // Given a delivery stream writing to a bucket under lake/raw/, and a proxy failing PutRecordBatch
    const { proxy, moto } = env();
    const generate = { seed: 52, count: 2000 };
    const expected = new Set([...createGenerator(generate)].map((r) => `${r.id} ${r.mtime}`));
    const server = await startSourceServer({ generate });
    await createBucket(s3Client(), 'faults-f');
    const firehose = awsClient('firehose', FirehoseClient, { maxAttempts: 1 });
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: 'faults-f',
        ExtendedS3DestinationConfiguration: { BucketARN: 'arn:aws:s3:::faults-f', RoleARN: 'arn:aws:iam::123456789012:role/firehose', Prefix: 'lake/raw/' },
      }),
    );
    proxy.setRules([
      { service: 'firehose', operation: 'PutRecordBatch', fault: 'partial', on: [1, 4, 7, 10], entryShare: 0.2 },
      { service: 'firehose', operation: 'PutRecordBatch', fault: 'throttle', on: [2, 8] },
      { service: 'firehose', operation: 'PutRecordBatch', fault: 'drop-before', on: [3, 9] },
    ]);
    const sink = new FirehoseSink({ client: firehose, deliveryStream: 'faults-f' });
    try {
      // When the streamer runs until every distinct event is durable
      const summary = await withLake((dir) => runStreamer({ url: server.url, store: new LocalStore(dir), settings, sink, maxEvents: expected.size }));

      // Then the faults happened, and the objects Firehose wrote hold each event once, one per line, in hour folders
      for (const fault of ['partial', 'throttle', 'drop-before']) expect(proxy.injected[`firehose.PutRecordBatch:${fault}`] ?? 0, fault).toBeGreaterThan(0);
      expect(summary.durable).toBe(expected.size);
      const objects = await readObjects(s3Client({ endpointUrl: moto.endpoint }), 'faults-f', 'lake/raw/');
      for (const o of objects) expect(o.key).toMatch(/^lake\/raw\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/faults-f-\d+-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]+$/);
      const pairs = pairsOf(objects.flatMap((o) => o.text.split('\n')));
      expect([...tally(pairs)].filter(([, n]) => n > 1)).toEqual([]);
      expect(new Set(pairs)).toEqual(expected);
    } finally {
      proxy.setRules([]);
      firehose.destroy();
      await server.close();
    }
  }, 400_000);
});
