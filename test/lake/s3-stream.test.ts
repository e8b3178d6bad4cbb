import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { s3Client } from '../../src/aws/clients.ts';
import { configSchema } from '../../src/config/schema.ts';
import { listRawHours } from '../../src/lake/hours.ts';
import { importLines } from '../../src/lake/import.ts';
import { S3Store } from '../../src/lake/s3-store.ts';
import { startSourceServer } from '../../src/source/server.ts';
import { runStreamer } from '../../src/stream/streamer.ts';
import { startMoto, type Moto } from '../helpers/moto.ts';
import { CAPTURE } from '../helpers/fixtures.ts';
import { describeWith } from '../helpers/requires.ts';

let moto: Moto;
let client: S3Client;

/** Every key under the prefix and the records of the raw objects, read with the plain S3 client. */
async function readBucket(prefix: string): Promise<{ keys: string[]; ids: string[] }> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: prefix }));
  const keys = (out.Contents ?? []).map((o) => o.Key!).sort();
  const ids: string[] = [];
  for (const key of keys.filter((k) => k.endsWith('.ndjson.gz'))) {
    const body = await (await client.send(new GetObjectCommand({ Bucket: 'lake', Key: key }))).Body!.transformToByteArray();
    for (const line of gunzipSync(body).toString('utf8').split('\n')) if (line) ids.push((JSON.parse(line) as { id: string }).id);
  }
  return { keys, ids };
}

describeWith(['venv'], 'raw lake on S3 (moto_server)', () => {
  beforeAll(async () => {
    moto = await startMoto();
    // The SDK's credential chain reads the process environment.
    Object.assign(process.env, moto.env);
    client = s3Client();
    await client.send(new CreateBucketCommand({ Bucket: 'lake' }));
  });
  afterAll(async () => {
    await moto?.stop();
    // The streamer stages an S3 lake's files in <tmp>/openevents-stream/<lake hash>/.
    rmSync(path.join(os.tmpdir(), 'openevents-stream'), { recursive: true, force: true });
  });

  it('streams the capture into s3://lake/stream/ with a checkpoint, and lists its hour', async () => {
    // Given the capture served on loopback and an S3 lake
    const server = await startSourceServer({ replay: [CAPTURE] });
    const store = new S3Store('lake', 'stream/', client);
    const ids = new Set(
      (await readFile(CAPTURE, 'utf8')).split('\n').flatMap((l) => {
        try {
          return [(JSON.parse(l) as { id: string }).id];
        } catch {
          return [];
        }
      }),
    );

    // When 758 events are streamed into it
    const summary = await runStreamer({ url: server.url, store, settings: configSchema.parse({}).stream, maxEvents: 758 });
    await server.close();

    // Then the objects hold every id once per record, the checkpoint is there, and ls counts them
    const { keys, ids: stored } = await readBucket('stream/');
    expect(summary.durable).toBe(758);
    expect(stored.length).toBe(758);
    expect(new Set(stored)).toEqual(ids);
    expect(keys).toContain('stream/_state/stream/w1.json');
    expect(keys.every((k) => !k.includes('.tmp'))).toBe(true);
    const hours = await listRawHours(store);
    expect(hours.reduce((n, h) => n + h.records, 0)).toBe(758);
  });

  it('imports into S3 idempotently', async () => {
    const store = new S3Store('lake', 'imported/', client);
    const lines = ['{"id":"a","mtime":1425793345907}', '{"id":"b","mtime":1425793345908}', 'oops'];
    const now = Date.parse('2026-11-28T07:30:00Z');
    await importLines(store, lines, { partitionBy: 'mtime', writer: 'imp-test', now });
    await importLines(store, lines, { partitionBy: 'mtime', writer: 'imp-test', now });
    const { keys, ids } = await readBucket('imported/');
    expect(ids.sort()).toEqual(['a', 'b']);
    // (the bad line goes to quarantine under the import's own hour, as it has no mtime)
    expect(keys).toEqual([
      'imported/quarantine/2026/11/28/07/imp-test-1.ndjson',
      'imported/raw/2015/03/08/05/_manifest.json',
      'imported/raw/2015/03/08/05/imp-test-1-2.ndjson.gz',
    ]);
  });
});
