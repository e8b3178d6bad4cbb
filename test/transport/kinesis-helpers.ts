import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  KinesisClient,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { awsClient, type AwsOptions } from '../../src/aws/clients.ts';
import { afterAll, beforeAll } from 'vitest';
import { startAwsProxy, type AwsProxy } from '../helpers/aws-proxy.ts';
import { useMoto, type Moto } from '../helpers/moto.ts';

/**
 * Test-side access to the emulator, independent of the code under test: plain SDK calls to
 * create streams and buckets and to read back every record and object.
 */

/** A Kinesis client from the toolkit's factory (region, AWS_ENDPOINT_URL, the user-error mapping). */
export function kinesisClient(options: AwsOptions = {}): KinesisClient {
  return awsClient('kinesis', KinesisClient, options);
}

/** Creates a provisioned stream and waits until it is ACTIVE. */
export async function createStream(client: KinesisClient, name: string, shards: number): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  for (let i = 0; i < 100; i++) {
    const s = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`stream ${name} did not become ACTIVE`);
}

export interface ReadRecord {
  shard: string;
  seq: bigint;
  key: string;
  data: string;
}

/** Every record of every shard, by shard then sequence number (TRIM_HORIZON, one page at a time). */
export async function readStreamRecords(client: KinesisClient, name: string): Promise<ReadRecord[]> {
  const shards = (await client.send(new ListShardsCommand({ StreamName: name }))).Shards ?? [];
  const out: ReadRecord[] = [];
  for (const shard of shards) {
    let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: name, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    while (iterator) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of page.Records ?? []) {
        out.push({ shard: shard.ShardId!, seq: BigInt(r.SequenceNumber!), key: r.PartitionKey!, data: Buffer.from(r.Data!).toString('utf8') });
      }
      if ((page.Records ?? []).length === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return out;
}

/** Puts JSON lines keyed by their id, 500 per call, one call at a time; returns the lines put. */
export async function putLines(client: KinesisClient, stream: string, lines: string[]): Promise<string[]> {
  for (let i = 0; i < lines.length; i += 500) {
    const chunk = lines.slice(i, i + 500);
    const out = await client.send(
      new PutRecordsCommand({ StreamName: stream, Records: chunk.map((l) => ({ Data: Buffer.from(l), PartitionKey: (JSON.parse(l) as { id: string }).id })) }),
    );
    if (out.FailedRecordCount) throw new Error(`${out.FailedRecordCount} records failed`);
  }
  return lines;
}

export async function createBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}

/** Every object under a prefix: key and bytes (gunzipped when gzip), read with plain S3 calls. */
export async function readObjects(client: S3Client, bucket: string, prefix: string): Promise<Array<{ key: string; text: string }>> {
  const out: Array<{ key: string; text: string }> = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of page.Contents ?? []) {
      const body = await client.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
      let bytes = Buffer.from(await body.Body!.transformToByteArray());
      if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
      out.push({ key: o.Key!, text: bytes.toString('utf8') });
    }
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

/** The (id, mtime) of each JSON line. */
export function pairsOf(lines: Iterable<string>): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    const { id, mtime } = JSON.parse(line) as { id: string; mtime: number };
    out.push(`${id} ${mtime}`);
  }
  return out;
}

/**
 * moto_server with the fault proxy in front (no faults until a test sets rules), and
 * AWS_ENDPOINT_URL pointed at the proxy for the test file: moto needs its Kinesis calls one at a
 * time (see aws-proxy.ts), and the fault tests need the proxy anyway. `work` is a scratch folder
 * for the file, the working directory of the CLIs it runs: a command on an s3:// lake keeps its
 * local state (telemetry) in `<cwd>/.openevents`, which must not land in the repository.
 */
export function useMotoBehindProxy(): () => { moto: Moto; proxy: AwsProxy; work: string } {
  const moto = useMoto();
  let proxy: AwsProxy | undefined;
  let work: string | undefined;
  beforeAll(async () => {
    proxy = await startAwsProxy(moto().endpoint);
    process.env.AWS_ENDPOINT_URL = proxy.endpoint;
    work = await mkdtemp(path.join(os.tmpdir(), 'oe-transport-'));
  });
  afterAll(async () => {
    await proxy?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });
  return () => {
    if (!proxy || !work) throw new Error('the fault proxy is not running');
    return { moto: moto(), proxy, work };
  };
}
