import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { createGenerator } from '../../src/source/generator.ts';
import { startSourceServer } from '../../src/source/server.ts';
import type { Sink, SinkBatch, SinkContext, SinkRecovery, SinkRejection } from '../../src/stream/sink.ts';
import { runStreamer } from '../../src/stream/streamer.ts';
import { readQuarantine, rawFiles, waitUntil } from '../helpers/stream-lake.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const settings = configSchema.parse({ stream: { stallTimeoutMs: 2000, backoffInitialMs: 20, backoffMaxMs: 100, rotateAgeMs: 200, statsIntervalMs: 100 } }).stream;

/**
 * A sink shaped like a remote service, for the streamer's side of the contract: it copies each
 * record out of the batch (releasing it at once), keeps at most `maxInFlight` records in flight
 * (write() waits for room), acknowledges only when the test says so, and rejects records larger
 * than `limit` bytes, as Kinesis does past 1 MiB.
 */
class HeldSink implements Sink {
  readonly kind = 'held';
  readonly target = 'memory';
  readonly stored = new Map<number, string>();
  readonly inFlight: Array<{ seq: number; line: string }> = [];
  private rejected: SinkRejection[] = [];
  private durable = 0;
  private room: Array<() => void> = [];
  opened: SinkContext | undefined;
  closed = false;

  constructor(
    private readonly limit: number,
    private readonly maxInFlight: number,
  ) {}

  async open(context: SinkContext): Promise<SinkRecovery> {
    this.opened = context;
    this.durable = context.checkpointedThrough;
    return { durableThrough: this.durable, recovered: [] };
  }

  async write(batch: SinkBatch): Promise<void> {
    expect(batch.ids.length).toBe(batch.last - batch.first + 1);
    for (let i = 0; i <= batch.last - batch.first; i++) {
      const line = batch.data.subarray(i === 0 ? 0 : batch.ends[i - 1]!, batch.ends[i]! - 1).toString();
      expect((JSON.parse(line) as { id: string }).id).toBe(batch.ids[i]);
      this.inFlight.push({ seq: batch.first + i, line });
    }
    batch.release();
    while (this.inFlight.length > this.maxInFlight) await new Promise<void>((r) => this.room.push(r));
  }

  /** Acknowledges the oldest n records in flight (the service answered). */
  acknowledge(n: number): void {
    for (const { seq, line } of this.inFlight.splice(0, n)) {
      if (Buffer.byteLength(line) > this.limit) this.rejected.push({ seq, reason: `record larger than the sink's ${this.limit} bytes`, record: Buffer.from(line) });
      else this.stored.set(seq, line);
      this.durable = seq;
    }
    for (const wake of this.room.splice(0)) wake();
  }

  durableThrough(): number {
    return this.durable;
  }
  takeRejected(): SinkRejection[] {
    return this.rejected.splice(0);
  }
  async tick(): Promise<void> {}
  async flush(): Promise<void> {
    this.acknowledge(this.inFlight.length);
  }
  state(): unknown {
    return { stored: this.stored.size };
  }
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }
  async abort(): Promise<void> {}
}

async function lakeDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oe-sink-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function readCheckpoint(lake: string): Promise<{ nextSeq: number; dedupe: Record<string, string[]>; sink: { kind: string; state: unknown } } | undefined> {
  try {
    return JSON.parse(await readFile(path.join(lake, '_state/stream/w1.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

describe('the sink seam', () => {
  it('moves the checkpoint only as far as the sink says records are durable, and quarantines what the sink rejects', async () => {
    // Given 300 generated events, a sink that holds them until acknowledged and takes at most 1,900 bytes per record
    const seed = 5;
    const count = 300;
    const generated = [...createGenerator({ seed, count })];
    const server = await startSourceServer({ generate: { seed, count } });
    cleanups.push(() => server.close());
    const lake = await lakeDir();
    const limit = 1900;
    const sink = new HeldSink(limit, 50);
    const stop = new AbortController();
    const run = runStreamer({ url: server.url, store: new LocalStore(lake), settings, sink, stopSignal: stop.signal });

    // When the streamer has handed records over but none is acknowledged
    await waitUntil(() => sink.inFlight.length >= 50, 20_000, 'records in flight');
    await new Promise((r) => setTimeout(r, 1200));
    // Then nothing is checkpointed
    expect((await readCheckpoint(lake))?.nextSeq ?? 1).toBe(1);
    expect(sink.stored.size).toBe(0);

    // When the sink acknowledges the first 40
    sink.acknowledge(40);
    await waitUntil(async () => (await readCheckpoint(lake))?.nextSeq === 41, 10_000, 'the checkpoint to follow the sink');
    // Then the checkpoint says 1..40 are durable and its dedupe window holds exactly those 40 records' pairs (none still in flight)
    const cp = (await readCheckpoint(lake))!;
    const saved = new Set(Object.entries(cp.dedupe).flatMap(([m, ids]) => ids.map((id) => `${id} ${m}`)));
    const first40 = new Set(generated.slice(0, 40).map((r) => `${r.id} ${r.mtime}`));
    expect(saved).toEqual(first40);
    expect(cp.sink).toEqual({ kind: 'held', state: { stored: [...sink.stored.keys()].length } });

    // When everything else is acknowledged and the streamer stops
    const acker = setInterval(() => sink.acknowledge(25), 20);
    await waitUntil(() => sink.durableThrough() >= count, 20_000, 'all acknowledged');
    clearInterval(acker);
    stop.abort();
    const summary = await run;

    // Then the sink was closed (flushed), records larger than its limit are quarantined with its reason, the rest stored once each
    const tooBig = generated.filter((r) => Buffer.byteLength(r.line) > limit);
    expect(tooBig.length).toBeGreaterThan(0);
    expect(sink.closed).toBe(true);
    expect([...sink.stored.values()].sort()).toEqual(generated.filter((r) => Buffer.byteLength(r.line) <= limit).map((r) => r.line).sort());
    const quarantined = await readQuarantine(lake);
    expect(quarantined.map((q) => q.bytes).sort()).toEqual(tooBig.map((r) => r.line).sort());
    for (const q of quarantined) expect(q.reason).toBe(`record larger than the sink's ${limit} bytes`);
    expect(summary).toMatchObject({ events: count, durable: count - tooBig.length, invalid: tooBig.length, sink: 'held memory' });
    expect((await readCheckpoint(lake))?.nextSeq).toBe(count + 1);
    // And nothing went to the lake's raw files: the sink, not the streamer, decides where records go
    expect(await rawFiles(lake)).toEqual([]);
  });

  it('a restart resumes from what the sink made durable: the sink gets the checkpoint and its own state back', async () => {
    const seed = 6;
    const count = 120;
    const server = await startSourceServer({ generate: { seed, count } });
    cleanups.push(() => server.close());
    const lake = await lakeDir();
    const first = new HeldSink(1 << 20, 1000);
    await runStreamer({ url: server.url, store: new LocalStore(lake), settings, sink: first, maxEvents: count });
    const second = new HeldSink(1 << 20, 1000);
    const stop = new AbortController();
    const run = runStreamer({ url: server.url, store: new LocalStore(lake), settings, sink: second, stopSignal: stop.signal });
    await waitUntil(() => second.opened !== undefined, 10_000, 'the second sink to open');
    stop.abort();
    await run;
    expect(second.opened).toMatchObject({ writer: 'w1', checkpointedThrough: count, state: { stored: count } });
    expect(second.stored.size).toBe(0);
  });
});
