import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { s3Client } from '../../src/aws/clients.ts';
import { createGenerator } from '../../src/source/generator.ts';
import { startSourceServer } from '../../src/source/server.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';
import { tally, waitUntil } from '../helpers/stream-lake.ts';
import { createBucket, createStream, kinesisClient, pairsOf, putLines, readObjects, readStreamRecords, useMotoBehindProxy } from './kinesis-helpers.ts';

const env = useMotoBehindProxy();

const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const c of cleanups.splice(0).reverse()) await c();
});

function spawn(args: string[]): ChildProcess {
  const child = spawnCli(args, { cwd: env().work, env: { ...process.env, OPENEVENTS_STREAM_BACKOFF_INITIAL_MS: '20', OPENEVENTS_STREAM_BACKOFF_MAX_MS: '200' } });
  children.push(child);
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

const RAW_NAME = /\/(shardId-\d+)-(\d+)-(\d+)\.ndjson\.gz$/;

/** Raw objects of a bucket prefix with the shard and sequence range their names give. */
async function rawObjects(bucket: string, prefix: string): Promise<Array<{ key: string; shard: string; first: bigint; last: bigint; lines: string[] }>> {
  return (await readObjects(s3Client({ endpointUrl: env().moto.endpoint }), bucket, prefix))
    .filter((o) => RAW_NAME.test(o.key))
    .map((o) => {
      const [, shard, first, last] = RAW_NAME.exec(o.key)!;
      return { key: o.key, shard: shard!, first: BigInt(first!), last: BigInt(last!), lines: o.text.split('\n').filter(Boolean) };
    });
}

describe('kill -9 and restart, against moto_server', () => {
  it('the streamer with the Kinesis sink: nothing lost, nothing put twice', async () => {
    // Given a generated source (it publishes only as fast as it is read) and a 2-shard stream
    const generate = { seed: 61, count: 5000 };
    const expected = new Set([...createGenerator(generate)].map((r) => `${r.id} ${r.mtime}`));
    const server = await startSourceServer({ generate });
    cleanups.push(() => server.close());
    await createStream(kinesisClient(), 'crash-s', 2);
    const lake = await mkdtemp(path.join(os.tmpdir(), 'oe-crash-k-'));
    cleanups.push(() => rm(lake, { recursive: true, force: true }));
    const nextSeq = async (): Promise<number> => {
      try {
        return (JSON.parse(await readFile(path.join(lake, '_state/stream/w1.json'), 'utf8')) as { nextSeq: number }).nextSeq;
      } catch {
        return 0;
      }
    };
    // The resume window covers the generator's old mtimes, so what was in flight at the kill is served again.
    const args = ['stream', '--url', server.url, '--lake', lake, '--sink', 'kinesis', '--kinesis-stream', 'crash-s', '--stall-timeout', '5000', '--resume-window', String(400 * 86_400_000), '-q'];

    // When the streamer is killed with SIGKILL once some records are durable
    const first = spawn(args);
    await waitUntil(async () => (await nextSeq()) > 1200, 240_000, 'the first checkpoints');
    first.kill('SIGKILL');
    await exited(first);

    // And restarted until the stream holds as many records as the source has distinct events (or time is up)
    const second = spawn(args);
    let stderr = '';
    second.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const reader = kinesisClient({ endpointUrl: env().moto.endpoint });
    await waitUntil(
      async () => {
        await new Promise((r) => setTimeout(r, 2000));
        return (await readStreamRecords(reader, 'crash-s')).length >= expected.size;
      },
      300_000,
      'every event in the stream',
    ).catch(() => undefined); // what is missing shows in the assertions below
    second.kill('SIGTERM');
    expect(await exited(second), stderr).toBe(0);

    // Then the stream holds every served (id, mtime) exactly once
    const records = await readStreamRecords(reader, 'crash-s');
    const pairs = records.map((r) => pairsOf([r.data])[0]!);
    expect([...tally(pairs)].filter(([, n]) => n > 1)).toEqual([]);
    expect(new Set(pairs)).toEqual(expected);
  }, 600_000);

  it('the lander: nothing lost, no duplicate objects; a dead lander’s shards are taken over at once', async () => {
    // Given a 2-shard stream of 4,000 records
    await createStream(kinesisClient(), 'crash-l', 2);
    await createBucket(s3Client(), 'crash-l');
    const put = await putLines(kinesisClient(), 'crash-l', [...createGenerator({ seed: 62, count: 4000 })].map((r) => r.line));
    const lake = 's3://crash-l/lake';

    // When a lander writing small objects is killed with SIGKILL after its first objects
    const first = spawn(['land', '--kinesis-stream', 'crash-l', '--lake', lake, '--rotate-bytes', '40000', '-q']);
    await waitUntil(async () => (await rawObjects('crash-l', 'lake/raw/')).length >= 3, 240_000, 'the first objects');
    first.kill('SIGKILL');
    await exited(first);

    // And another drains the stream (the dead one's leases are taken at once: it ran on this machine)
    const second = await runCli(['land', '--kinesis-stream', 'crash-l', '--lake', lake, '--rotate-bytes', '40000', '--once', '--json', '-q'], { cwd: env().work, env: process.env });
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ stoppedBy: 'drained', heldElsewhere: [] });

    // Then every record is in exactly one object, and no two objects of a shard overlap
    const objects = await rawObjects('crash-l', 'lake/raw/');
    const pairs = pairsOf(objects.flatMap((o) => o.lines));
    expect([...tally(pairs)].filter(([, n]) => n > 1)).toEqual([]);
    expect(new Set(pairs)).toEqual(new Set(pairsOf(put)));
    for (const shard of new Set(objects.map((o) => o.shard))) {
      const ranges = objects.filter((o) => o.shard === shard).sort((a, b) => (a.first < b.first ? -1 : 1));
      for (let i = 1; i < ranges.length; i++) expect(ranges[i]!.first > ranges[i - 1]!.last, `${ranges[i - 1]!.key} / ${ranges[i]!.key}`).toBe(true);
    }
  }, 600_000);

  it('two landers started at once: each shard is read by one of them', async () => {
    // Given a 4-shard stream
    await createStream(kinesisClient(), 'two-l', 4);
    await createBucket(s3Client(), 'two-l');
    const put = await putLines(kinesisClient(), 'two-l', [...createGenerator({ seed: 63, count: 2000 })].map((r) => r.line));
    const args = ['land', '--kinesis-stream', 'two-l', '--lake', 's3://two-l/lake', '--once', '--json', '-q'];

    // When two landers start together
    const [a, b] = await Promise.all([runCli(args, { cwd: env().work, env: process.env }), runCli(args, { cwd: env().work, env: process.env })]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);

    // Then the records of each shard came from one lander, every shard was landed, each record once
    const landedA = (JSON.parse(a.stdout) as { landedShards: Record<string, number> }).landedShards;
    const landedB = (JSON.parse(b.stdout) as { landedShards: Record<string, number> }).landedShards;
    const readA = Object.keys(landedA).filter((s) => landedA[s]! > 0);
    const readB = Object.keys(landedB).filter((s) => landedB[s]! > 0);
    expect(readA.filter((s) => readB.includes(s))).toEqual([]);
    expect([...readA, ...readB].sort()).toEqual(['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003']);
    const objects = await rawObjects('two-l', 'lake/raw/');
    const pairs = pairsOf(objects.flatMap((o) => o.lines));
    expect(pairs.length).toBe(put.length);
    expect(new Set(pairs)).toEqual(new Set(pairsOf(put)));
  }, 600_000);
});
