import { GetObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { s3Client } from '../../src/aws/clients.ts';
import { configSchema } from '../../src/config/schema.ts';
import { hourIdOf, hourPath } from '../../src/lake/layout.ts';
import { openLake } from '../../src/lake/open.ts';
import { createGenerator } from '../../src/source/generator.ts';
import { runLander, type LandNotice } from '../../src/transport/lander.ts';
import { waitUntil } from '../helpers/stream-lake.ts';
import { createBucket, createStream, kinesisClient, pairsOf, putLines, readObjects, readStreamRecords, useMotoBehindProxy } from './kinesis-helpers.ts';

const env = useMotoBehindProxy();

const settings = { ...configSchema.parse({ stream: { rotateAgeMs: 60_000, statsIntervalMs: 500 } }).stream, leaseTtlMs: 10_000 };
const RAW_NAME = /^lake\/raw\/(\d{4}\/\d{2}\/\d{2}\/\d{2})\/(shardId-\d+)-(\d+)-(\d+)\.ndjson\.gz$/;

function lines(seed: number, count: number): string[] {
  return [...createGenerator({ seed, count })].map((r) => r.line);
}

describe('the lander against moto_server', () => {
  it('lands every record of every shard once, by arrival hour, named by shard and sequence numbers, and checkpoints each shard', async () => {
    // Given a 3-shard stream holding 2,000 records and an empty S3 lake
    const kinesis = kinesisClient();
    const s3 = s3Client();
    await createStream(kinesis, 'land-a', 3);
    await createBucket(s3, 'land-a');
    const put = await putLines(kinesis, 'land-a', lines(11, 2000));
    const inStream = await readStreamRecords(kinesis, 'land-a');
    const store = await openLake('s3://land-a/lake');

    // When the lander drains it once
    const notices: LandNotice[] = [];
    const summary = await runLander({ client: kinesis, stream: 'land-a', store, settings, once: true, onNotice: (n) => notices.push(n) });

    // Then every record is in exactly one object, named <shard>-<first>-<last> of what it holds, in the hour it arrived
    expect(summary.stoppedBy).toBe('drained');
    expect(Object.keys(summary.landedShards)).toEqual(['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002']);
    expect(summary.records).toBe(2000);
    const objects = (await readObjects(s3, 'land-a', 'lake/raw/')).filter((o) => !o.key.endsWith('_manifest.json'));
    const landed: string[] = [];
    for (const o of objects) {
      const m = RAW_NAME.exec(o.key);
      expect(m, o.key).not.toBeNull();
      const [, hourDir, shard, first, last] = m!;
      const mine = inStream.filter((r) => r.shard === shard && r.seq >= BigInt(first!) && r.seq <= BigInt(last!));
      const objectLines = o.text.split('\n').filter(Boolean);
      expect(objectLines).toEqual(mine.map((r) => r.data));
      expect(hourDir).toBe(hourPath(hourIdOf(Date.now())));
      landed.push(...objectLines);
    }
    expect(landed.sort()).toEqual([...put].sort());
    // each shard's checkpoint names its last sequence number
    for (const shard of Object.keys(summary.landedShards)) {
      const body = await s3.send(new GetObjectCommand({ Bucket: 'land-a', Key: `lake/_state/land/land-a/${shard}.json` }));
      const checkpoint = JSON.parse(await body.Body!.transformToString()) as { lastSequence: string };
      const last = inStream.filter((r) => r.shard === shard).at(-1)!;
      expect(checkpoint.lastSequence).toBe(String(last.seq));
    }

    // And when more records arrive, the next run lands only those
    const more = await putLines(kinesis, 'land-a', lines(12, 300));
    const again = await runLander({ client: kinesis, stream: 'land-a', store, settings, once: true });
    expect(again.records).toBe(300);
    const all = (await readObjects(s3, 'land-a', 'lake/raw/')).filter((o) => !o.key.endsWith('_manifest.json'));
    expect(pairsOf(all.flatMap((o) => o.text.split('\n'))).sort()).toEqual(pairsOf([...put, ...more]).sort());
  });

  it('following the stream, publishes a trickle of records once the object is rotateAgeMs old, and stops cleanly', async () => {
    // Given a lander following an empty stream, publishing objects at 1 s of age
    const kinesis = kinesisClient();
    const s3 = s3Client();
    await createStream(kinesis, 'land-t', 1);
    await createBucket(s3, 'land-t');
    const stop = new AbortController();
    const running = runLander({ client: kinesis, stream: 'land-t', store: await openLake('s3://land-t/lake'), settings: { ...settings, rotateAgeMs: 1000 }, stopSignal: stop.signal });
    try {
      // When a few records arrive
      const put = await putLines(kinesis, 'land-t', lines(17, 7));

      // Then they are landed without more records or a stop
      await waitUntil(async () => (await readObjects(s3, 'land-t', 'lake/raw/')).length > 0, 60_000, 'the trickle to be landed');
      const objects = await readObjects(s3, 'land-t', 'lake/raw/');
      expect(pairsOf(objects.flatMap((o) => o.text.split('\n')))).toEqual(pairsOf(put));
    } finally {
      stop.abort();
    }
    const summary = await running;
    expect(summary.stoppedBy).toBe('signal');
    expect(summary.records).toBe(7);
  });

  it('closes the hours it wrote once they are due, with the same manifest as the streamer', async () => {
    // Given records landed, and a clock two hours later
    const kinesis = kinesisClient();
    const s3 = s3Client();
    await createStream(kinesis, 'land-h', 2);
    await createBucket(s3, 'land-h');
    await putLines(kinesis, 'land-h', lines(13, 700));
    const hour = hourIdOf(Date.now());
    const store = await openLake('s3://land-h/l');
    await runLander({ client: kinesis, stream: 'land-h', store, settings, once: true });

    // When a lander runs after the hour (and its grace) ended
    const later = () => Date.now() + 2 * 3_600_000;
    await putLines(kinesis, 'land-h', lines(14, 10));
    await runLander({ client: kinesis, stream: 'land-h', store, settings, once: true, now: later });

    // Then the hour has a manifest listing every object in it with its record count
    const manifestBody = await s3.send(new GetObjectCommand({ Bucket: 'land-h', Key: `l/raw/${hourPath(hour)}/_manifest.json` }));
    const manifest = JSON.parse(await manifestBody.Body!.transformToString()) as { hour: string; files: Array<{ key: string; records: number }>; records: number };
    const objects = (await readObjects(s3, 'land-h', `l/raw/${hourPath(hour)}/`)).filter((o) => !o.key.endsWith('_manifest.json'));
    expect(manifest.hour).toBe(hour);
    expect(manifest.files.map((f) => f.key).sort()).toEqual(objects.map((o) => o.key.slice('l/'.length)).sort());
    for (const f of manifest.files) expect(f.records).toBe(objects.find((o) => o.key === `l/${f.key}`)!.text.split('\n').filter(Boolean).length);
    expect(manifest.records).toBe(710);
  });

  it('through faults — expired iterators, read throttling, S3 SlowDown and lost answers — lands everything once, with no duplicate objects', async () => {
    // Given a stream of 3,000 records and a proxy that fails reads and writes
    const { proxy } = env();
    const kinesis = kinesisClient({ maxAttempts: 1 });
    const s3 = s3Client();
    await createStream(kinesis, 'land-f', 2);
    await createBucket(s3, 'land-f');
    const put = await putLines(kinesis, 'land-f', lines(16, 3000));
    const store = await openLake('s3://land-f/lake');
    proxy.setRules([
      { service: 'kinesis', operation: 'GetRecords', fault: 'expired-iterator', probability: 0.2 },
      { service: 'kinesis', operation: 'GetRecords', fault: 'throttle', probability: 0.2 },
      { service: 'kinesis', operation: 'GetRecords', fault: 'drop-after', probability: 0.1 },
      { service: 's3', operation: 'PutObject', fault: 'slowdown', probability: 0.3 },
      { service: 's3', operation: 'PutObject', fault: 'drop-after', probability: 0.2 },
    ]);
    try {
      // When the lander drains it, objects small enough that there are many
      const summary = await runLander({ client: kinesis, stream: 'land-f', store, settings: { ...settings, rotateBytes: 64 * 1024 }, once: true });

      // Then faults happened, and every record is landed exactly once
      const injected = Object.keys(proxy.injected);
      for (const kind of ['GetRecords:expired-iterator', 'GetRecords:throttle', 'PutObject:slowdown', 'PutObject:drop-after']) {
        expect(injected.some((k) => k.endsWith(kind)), `${kind} in ${injected.join(', ')}`).toBe(true);
      }
      const objects = (await readObjects(s3, 'land-f', 'lake/raw/')).filter((o) => !o.key.endsWith('_manifest.json'));
      expect(objects.length).toBeGreaterThan(4);
      const pairs = pairsOf(objects.flatMap((o) => o.text.split('\n')));
      expect(pairs.length).toBe(put.length);
      expect(new Set(pairs)).toEqual(new Set(pairsOf(put)));
      expect(summary.stoppedBy).toBe('drained');
    } finally {
      proxy.setRules([]);
    }
  });
});
