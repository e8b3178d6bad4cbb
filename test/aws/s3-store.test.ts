import { CreateBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { endpointFor, s3Client } from '../../src/aws/clients.ts';
import { openLake } from '../../src/lake/open.ts';
import { S3Store } from '../../src/lake/s3-store.ts';
import { listAll } from '../../src/lake/store.ts';
import { useMoto } from '../helpers/moto.ts';
import { writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describeWith } from '../helpers/requires.ts';
import { tempDirs } from '../helpers/temp.ts';

const tmp = tempDirs('oe-s3-');

describe('AWS client factory', () => {
  it('prefers the explicit endpoint, then the per-service variable, then AWS_ENDPOINT_URL', () => {
    expect(endpointFor('s3', { endpointUrl: 'http://a', env: { AWS_ENDPOINT_URL: 'http://c' } })).toBe('http://a');
    expect(endpointFor('s3', { env: { AWS_ENDPOINT_URL_S3: 'http://b', AWS_ENDPOINT_URL: 'http://c' } })).toBe('http://b');
    expect(endpointFor('kinesis', { env: { AWS_ENDPOINT_URL_S3: 'http://b', AWS_ENDPOINT_URL: 'http://c' } })).toBe('http://c');
    expect(endpointFor('emr', { env: {} })).toBeUndefined();
  });
});

describeWith(['venv'], 'S3Store against moto_server', () => {
  useMoto();

  it('puts, gets, lists by prefix with pagination, and deletes', async () => {
    const client = s3Client();
    await client.send(new CreateBucketCommand({ Bucket: 'lake-test' }));
    const store = (await openLake('s3://lake-test/prefix')) as S3Store;
    expect(store.url).toBe('s3://lake-test/prefix/');
    const keys = Array.from({ length: 1005 }, (_, i) => `raw/2026/11/28/06/w-${String(i).padStart(4, '0')}`);
    // (16 at a time, as the toolkit's own writers do: a thousand at once only queue for sockets)
    for (let i = 0; i < keys.length; i += 16) await Promise.all(keys.slice(i, i + 16).map((k) => store.put(k, k)));
    await store.put('curated/x', 'y', { contentType: 'text/plain', cacheControl: 'no-cache' });
    const listed = (await listAll(store, 'raw/')).map((o) => o.key);
    expect(listed).toEqual(keys);
    expect(Buffer.from((await store.get(keys[3]!))!).toString()).toBe(keys[3]);
    expect(await store.get('missing')).toBeUndefined();
    const head = await client.send(new HeadObjectCommand({ Bucket: 'lake-test', Key: 'prefix/curated/x' }));
    expect(head.ContentType).toBe('text/plain');
    expect(head.CacheControl).toBe('no-cache');
    await store.delete('curated/x');
    expect(await store.get('curated/x')).toBeUndefined();
  });

  it('uploads a local file and consumes it', async () => {
    const store = (await openLake('s3://lake-test/files')) as S3Store;
    const file = path.join(tmp(), 'a.gz');
    writeFileSync(file, Buffer.from([1, 2, 3]));
    await store.putFile('raw/a.gz', file);
    expect(Array.from((await store.get('raw/a.gz'))!)).toEqual([1, 2, 3]);
    expect(existsSync(file)).toBe(false);
  });
});
