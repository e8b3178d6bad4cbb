import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { createGenerator } from '../../src/source/generator.ts';
import { replayFeed, type CaptureRecord } from '../../src/source/replay.ts';
import { startSourceServer } from '../../src/source/server.ts';
import type { SinkBatch, SinkContext } from '../../src/stream/sink.ts';
import { runStreamer } from '../../src/stream/streamer.ts';
import { KinesisSink } from '../../src/transport/kinesis-sink.ts';
import { readQuarantine, tally } from '../helpers/stream-lake.ts';
import { createStream, kinesisClient, readStreamRecords, useMotoBehindProxy } from './kinesis-helpers.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

useMotoBehindProxy();

const settings = configSchema.parse({ stream: { stallTimeoutMs: 3000, backoffInitialMs: 20, backoffMaxMs: 200, statsIntervalMs: 200, resumeWindowMs: 400 * 86_400_000 } }).stream;

async function tempLake(): Promise<{ dir: string; done: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oe-kin-'));
  return { dir, done: () => rm(dir, { recursive: true, force: true }) };
}

describe('Kinesis sink against moto_server', () => {
  it('puts every accepted event once, in PutRecords calls of up to 500, one event on one shard in the order served', async () => {
    // Given a generated source and a 3-shard stream
    const seed = 5;
    const count = 4000;
    const server = await startSourceServer({ generate: { seed, count } });
    const client = kinesisClient({ maxAttempts: 1 });
    await createStream(client, 'events-a', 3);
    const lake = await tempLake();
    try {
      const expected = new Set([...createGenerator({ seed, count })].map((r) => `${r.id} ${r.mtime}`));
      const sink = new KinesisSink({ client, stream: 'events-a' });

      // When the streamer runs until every distinct event is durable
      const summary = await runStreamer({ url: server.url, store: new LocalStore(lake.dir), settings, sink, maxEvents: expected.size });

      // Then Kinesis holds each served (id, mtime) exactly once, keyed by event id
      expect(summary.durable).toBe(expected.size);
      const records = await readStreamRecords(client, 'events-a');
      const pairs = records.map((r) => {
        const { id, mtime } = JSON.parse(r.data) as { id: string; mtime: number };
        expect(r.key).toBe(id);
        return `${id} ${mtime}`;
      });
      expect(pairs.length).toBe(expected.size);
      expect(new Set(pairs)).toEqual(expected);
      // every shard got some, and one event's versions sit on one shard in the order the source served them
      expect(new Set(records.map((r) => r.shard)).size).toBe(3);
      const shardOf = new Map<string, string>();
      for (const r of records) {
        const id = r.key;
        expect(shardOf.get(id) ?? r.shard).toBe(r.shard);
        shardOf.set(id, r.shard);
      }
      const servedOrder = new Map<string, number[]>();
      const seen = new Set<string>();
      for (const e of server.log().events) {
        const pair = `${e.id} ${e.mtime}`;
        if (seen.has(pair)) continue;
        seen.add(pair);
        servedOrder.set(e.id, [...(servedOrder.get(e.id) ?? []), e.mtime]);
      }
      const storedOrder = new Map<string, number[]>();
      for (const r of [...records].sort((a, b) => (a.shard === b.shard ? Number(a.seq - b.seq) : a.shard < b.shard ? -1 : 1))) {
        const { mtime } = JSON.parse(r.data) as { mtime: number };
        storedOrder.set(r.key, [...(storedOrder.get(r.key) ?? []), mtime]);
      }
      expect(storedOrder).toEqual(servedOrder);
      // and calls were full: 4,000 records in about 8 calls of 500 (versions of one event split a few)
      expect(sink.stats().calls).toBeLessThanOrEqual(Math.ceil(expected.size / 500) + 4);
    } finally {
      await server.close();
      await lake.done();
    }
  });

  it('hands records over the stream limit (with their partition key) back to the streamer, which quarantines them with the reason', async () => {
    // Given a source whose second record is 1 MiB minus 3 bytes: within the streamer's limit, over Kinesis' with its key
    const events = [...createGenerator({ seed: 9, count: 3 })];
    const big = JSON.stringify({ id: 'big-1', mtime: events[1]!.mtime, name: '' }).slice(0, -2);
    const bigLine = `${big}${'x'.repeat(1024 * 1024 - 3 - Buffer.byteLength(big) - 2)}"}`;
    expect(Buffer.byteLength(bigLine)).toBe(1024 * 1024 - 3);
    const records: CaptureRecord[] = [
      { bytes: Buffer.from(events[0]!.line), id: events[0]!.id, mtime: events[0]!.mtime },
      { bytes: Buffer.from(bigLine), id: 'big-1', mtime: events[1]!.mtime },
      { bytes: Buffer.from(events[2]!.line), id: events[2]!.id, mtime: events[2]!.mtime },
    ];
    const server = await startSourceServer({ feed: replayFeed(records) });
    const client = kinesisClient({ maxAttempts: 1 });
    await createStream(client, 'events-big', 1);
    const lake = await tempLake();
    try {
      // When streamed through the Kinesis sink
      const summary = await runStreamer({ url: server.url, store: new LocalStore(lake.dir), settings, sink: new KinesisSink({ client, stream: 'events-big' }), maxEvents: 3 });

      // Then the two small records are in the stream, the big one in quarantine with why
      expect(summary.invalid).toBe(1);
      const stored = await readStreamRecords(client, 'events-big');
      expect(stored.map((r) => r.key)).toEqual([events[0]!.id, events[2]!.id]);
      const quarantined = await readQuarantine(lake.dir);
      expect(quarantined).toHaveLength(1);
      expect(quarantined[0]!.reason).toMatch(/^oversized record: 1048578 bytes with its partition key > the 1048576-byte record limit of Kinesis stream "events-big"/);
      expect(tally(stored.map((r) => r.key)).size).toBe(2);
    } finally {
      await server.close();
      await lake.done();
    }
  });

  it('after a crash, finds the records put after the checkpoint (and only those) and hands them back as recovered', async () => {
    // Given records 1–300 put and checkpointed, then 301–600 put but the process died before the next checkpoint
    const client = kinesisClient({ maxAttempts: 1 });
    await createStream(client, 'events-rec', 2);
    const events = [...createGenerator({ seed: 12, count: 600 })];
    const first = new KinesisSink({ client, stream: 'events-rec' });
    await first.open(context(0, undefined));
    await first.write(batchOf(events.slice(0, 300), 1));
    await first.flush();
    const checkpointed = { through: first.durableThrough(), state: first.state() };
    expect(checkpointed.through).toBe(300);
    await first.write(batchOf(events.slice(300), 301));
    await first.flush();
    await first.abort();

    // When a new sink opens from that checkpoint
    const second = new KinesisSink({ client, stream: 'events-rec' });
    const recovery = await second.open(context(checkpointed.through, checkpointed.state));
    await second.close();

    // Then it reports exactly the records put after the checkpoint, so the streamer does not put them again
    expect(recovery.durableThrough).toBe(300);
    expect(new Set(recovery.recovered.map((r) => `${r.id} ${r.mtime}`))).toEqual(new Set(events.slice(300).map((e) => `${e.id} ${e.mtime}`)));
  });

  it('fails with one line naming the stream when it does not exist, writing nothing', async () => {
    const server = await startSourceServer({ generate: { seed: 1, count: 10 } });
    const lake = await tempLake();
    try {
      const run = runStreamer({ url: server.url, store: new LocalStore(lake.dir), settings, sink: new KinesisSink({ client: kinesisClient({ maxAttempts: 1 }), stream: 'no-such-stream' }), maxEvents: 5 });
      await expect(run).rejects.toThrow(/no-such-stream/);
    } finally {
      await server.close();
      await lake.done();
    }
  });
});

/** A sink context as the streamer gives it. */
function context(checkpointedThrough: number, state: unknown): SinkContext {
  return { writer: 'w1', checkpointedThrough, state, beforePublish: async () => undefined, notice: () => undefined, log: () => undefined, now: Date.now };
}

/** Generated records as one streamer batch with sequence numbers from `first`. */
function batchOf(records: Array<{ line: string; id: string }>, first: number): SinkBatch {
  const data = Buffer.from(records.map((r) => r.line + '\n').join(''));
  const ends = new Uint32Array(records.length);
  let at = 0;
  records.forEach((r, i) => (ends[i] = at += Buffer.byteLength(r.line) + 1));
  return { first, last: first + records.length - 1, data, ends, ids: records.map((r) => r.id), arrivedAtMs: Date.now(), hour: new Date().toISOString().slice(0, 13), release: () => undefined };
}
