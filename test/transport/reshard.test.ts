import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  SplitShardCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { s3Client } from '../../src/aws/clients.ts';
import { configSchema } from '../../src/config/schema.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { openLake } from '../../src/lake/open.ts';
import { createGenerator } from '../../src/source/generator.ts';
import { runLander } from '../../src/transport/lander.ts';
import { readRawLines } from '../helpers/stream-lake.ts';
import { createBucket, createStream, kinesisClient, pairsOf, putLines, readObjects, useMotoBehindProxy } from './kinesis-helpers.ts';

useMotoBehindProxy();

const settings = { ...configSchema.parse({ stream: { statsIntervalMs: 1000 } }).stream, leaseTtlMs: 10_000 };

interface FakeShard {
  id: string;
  parents: string[];
  records: Array<{ seq: bigint; key: string; data: string }>;
  closed: boolean;
}

/**
 * A Kinesis stream that behaves as AWS does across a reshard (records stay in the closed parent;
 * a closed shard read to its end gives no next iterator) — what moto does not do (it moves a
 * split shard's records into the children). For the lander's own ordering logic only; the
 * moto test below runs the same lander against the emulator.
 */
function fakeKinesis(shards: FakeShard[], reads: string[]): KinesisClient {
  const byId = new Map(shards.map((s) => [s.id, s]));
  const send = async (command: unknown): Promise<unknown> => {
    await new Promise((r) => setTimeout(r, 1));
    if (command instanceof DescribeStreamSummaryCommand) return { StreamDescriptionSummary: { StreamName: 'fake', StreamStatus: 'ACTIVE' } };
    if (command instanceof ListShardsCommand) {
      return {
        Shards: shards.map((s) => ({
          ShardId: s.id,
          ...(s.parents[0] ? { ParentShardId: s.parents[0] } : {}),
          ...(s.parents[1] ? { AdjacentParentShardId: s.parents[1] } : {}),
          SequenceNumberRange: { StartingSequenceNumber: '1', ...(s.closed ? { EndingSequenceNumber: '999999999999' } : {}) },
        })),
      };
    }
    if (command instanceof GetShardIteratorCommand) {
      const { ShardId, ShardIteratorType, StartingSequenceNumber } = command.input;
      const from = ShardIteratorType === 'AFTER_SEQUENCE_NUMBER' ? BigInt(StartingSequenceNumber!) : 0n;
      return { ShardIterator: `${ShardId}|${from}` };
    }
    if (command instanceof GetRecordsCommand) {
      const [id, from] = command.input.ShardIterator!.split('|') as [string, string];
      const shard = byId.get(id)!;
      reads.push(id);
      const page = shard.records.filter((r) => r.seq > BigInt(from)).slice(0, 3);
      const last = page.at(-1)?.seq ?? BigInt(from);
      const atEnd = !shard.records.some((r) => r.seq > last);
      return {
        Records: page.map((r) => ({ SequenceNumber: String(r.seq), PartitionKey: r.key, Data: Buffer.from(r.data), ApproximateArrivalTimestamp: new Date() })),
        MillisBehindLatest: atEnd ? 0 : 1000,
        ...(atEnd && shard.closed ? {} : { NextShardIterator: `${id}|${last}` }),
      };
    }
    throw new Error(`fake Kinesis: unexpected ${(command as object).constructor.name}`);
  };
  return { send } as unknown as KinesisClient;
}

describe('the lander across resharding', () => {
  it('reads closed parents to their end before their children, through a split and a merge, so an event lands in order', async () => {
    // Given shard 0 split into 1 and 2, merged again into 3; event "e" changes in each generation
    const rec = (seq: number, id: string, v: number) => ({ seq: BigInt(seq), key: id, data: JSON.stringify({ id, mtime: 1_700_000_000_000 + v }) });
    const shards: FakeShard[] = [
      { id: 'shardId-000000000003', parents: ['shardId-000000000001', 'shardId-000000000002'], closed: false, records: [rec(40, 'e', 4), rec(41, 'f', 3)] },
      { id: 'shardId-000000000001', parents: ['shardId-000000000000'], closed: true, records: [rec(20, 'e', 2), rec(21, 'e', 3), rec(22, 'x', 1)] },
      { id: 'shardId-000000000002', parents: ['shardId-000000000000'], closed: true, records: [rec(30, 'f', 2), rec(31, 'y', 1), rec(32, 'z', 1), rec(33, 'w', 1)] },
      { id: 'shardId-000000000000', parents: [], closed: true, records: [rec(1, 'e', 1), rec(2, 'f', 1), rec(3, 'g', 1), rec(4, 'h', 1), rec(5, 'i', 1)] },
    ];
    const reads: string[] = [];
    const lake = await mkdtemp(path.join(os.tmpdir(), 'oe-reshard-'));
    try {
      // When the lander drains the stream
      const summary = await runLander({ client: fakeKinesis(shards, reads), stream: 'fake', store: new LocalStore(lake), settings, once: true, discoveryIntervalMs: 50 });

      // Then each child was first read after the last read of each of its parents
      const lastRead = (id: string): number => reads.lastIndexOf(id);
      const firstRead = (id: string): number => reads.indexOf(id);
      for (const s of shards) for (const p of s.parents) expect(firstRead(s.id), `${s.id} after ${p}`).toBeGreaterThan(lastRead(p));
      expect(summary.records).toBe(14);
      // every record landed once, and e's versions in the order it changed
      const lines = await readRawLines(lake);
      expect(lines).toHaveLength(14);
      const byShardThenSeq = lines.map((l) => l.file.replace(/^.*\/(shardId-\d+)-(\d+)-\d+\.ndjson\.gz$/, '$1 $2'));
      expect(byShardThenSeq.length).toBe(14);
      const shardOrder = ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003'];
      const eVersions = lines.filter((l) => l.id === 'e').sort((a, b) => shardOrder.indexOf(a.file.match(/shardId-\d+/)![0]) - shardOrder.indexOf(b.file.match(/shardId-\d+/)![0]));
      expect(eVersions.map((l) => l.mtime - 1_700_000_000_000)).toEqual([1, 2, 3, 4]);
      // and the closed shards are checkpointed as finished
      for (const id of shardOrder.slice(0, 3)) {
        const checkpoint = JSON.parse(await (await import('node:fs/promises')).readFile(path.join(lake, `_state/land/fake/${id}.json`), 'utf8')) as { finished: boolean };
        expect(checkpoint.finished).toBe(true);
      }
    } finally {
      await rm(lake, { recursive: true, force: true });
    }
  });

  it('against moto_server: a split shard (closed, its records in the children) is finished, and both children are landed', async () => {
    // Given a 1-shard stream with records, split in two, then more records
    const kinesis = kinesisClient();
    const s3 = s3Client();
    await createStream(kinesis, 'reshard-m', 1);
    await createBucket(s3, 'reshard-m');
    const before = await putLines(kinesis, 'reshard-m', [...createGenerator({ seed: 21, count: 400 })].map((r) => r.line));
    await kinesis.send(new SplitShardCommand({ StreamName: 'reshard-m', ShardToSplit: 'shardId-000000000000', NewStartingHashKey: String(2n ** 127n) }));
    const after = await putLines(kinesis, 'reshard-m', [...createGenerator({ seed: 22, count: 400 })].map((r) => r.line));

    // When the lander drains it
    const summary = await runLander({ client: kinesis, stream: 'reshard-m', store: await openLake('s3://reshard-m/lake'), settings, once: true, discoveryIntervalMs: 200 });

    // Then the parent is finished, both children read, and every record landed once
    expect(Object.keys(summary.landedShards).sort()).toEqual(['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002']);
    const objects = (await readObjects(s3, 'reshard-m', 'lake/raw/')).filter((o) => !o.key.endsWith('_manifest.json'));
    expect(pairsOf(objects.flatMap((o) => o.text.split('\n'))).sort()).toEqual(pairsOf([...before, ...after]).sort());
    const parent = JSON.parse((await readObjects(s3, 'reshard-m', 'lake/_state/land/reshard-m/shardId-000000000000.json'))[0]!.text) as { finished: boolean };
    expect(parent.finished).toBe(true);
  });
});
