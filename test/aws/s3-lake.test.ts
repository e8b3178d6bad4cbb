import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../src/aws/clients.ts';
import { S3Store } from '../../src/lake/s3-store.ts';
import { startAwsProxy, type AwsProxy } from '../helpers/aws-proxy.ts';
import { runCli } from '../helpers/cli.ts';
import { CAPTURE } from '../helpers/fixtures.ts';
import { useMoto } from '../helpers/moto.ts';

const moto = useMoto();
let s3: S3Client;
let proxy: AwsProxy;
let work: string;
let folderLake: string;
let input: string;
let cache: string;
const S3_LAKE = 's3://parity/lake';
const HOUR = '2015-03-08T06';

beforeAll(async () => {
  s3 = s3Client({ endpointUrl: moto().endpoint });
  await s3.send(new CreateBucketCommand({ Bucket: 'parity' }));
  // S3 calls go through a proxy so the test can count what is downloaded
  proxy = await startAwsProxy(moto().endpoint);
  work = await mkdtemp(path.join(os.tmpdir(), 'oe-s3-parity-'));
  folderLake = path.join(work, 'lake');
  cache = path.join(work, 'cache');
  // A Firehose-style copy: the capture in its arrival-hour folder, so both lakes get the same hour
  input = path.join(work, 'input', ...HOUR.replace('T', '-').split('-'));
  await mkdir(input, { recursive: true });
  await copyFile(CAPTURE, path.join(input, 'capture.ndjson'));
});
afterAll(async () => {
  await proxy?.close();
  await rm(work, { recursive: true, force: true });
});

async function cli(lake: string, args: string[]): Promise<unknown> {
  const env = { ...process.env, OPENEVENTS_PROFILE: 'local', OPENEVENTS_LAKE: lake, OPENEVENTS_AWS_S3_CACHE_DIR: cache, AWS_ENDPOINT_URL_S3: proxy.endpoint };
  const run = await runCli(args, { env, cwd: work });
  expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
  return args.includes('--json') || args.includes('json') ? JSON.parse(run.stdout) : run.stdout;
}

/** A result without what legitimately differs between two runs: times, durations, locations, ids of runs. */
function comparable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(comparable);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (/(At|Ms|^durationMs|Location|location|^url|^file|^outFile|^runId|^source|^objects|^removed|^key|^bytes)$/.test(k)) continue;
    out[k] = comparable(v);
  }
  return out;
}

/** GET requests the proxy forwarded for curated data files of the S3 lake (the table manifest is read on every open: one small read). */
function curatedDownloads(): string[] {
  return proxy.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/parity/lake/curated/') && r.url.includes('.parquet')).map((r) => r.url);
}

describe('an s3:// lake works exactly as a folder (the real commands, against moto_server)', { timeout: 900_000 }, () => {
  it('import, ls, etl, query, stats, report build and ml train give the same answers', async () => {
    const results: Record<string, unknown[]> = {};
    const QUERIES = [
      'SELECT c.name, count(*) AS n FROM events e JOIN groups g USING (group_id) JOIN categories c USING (category_id) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10',
      'SELECT status, count(*) AS n, count(DISTINCT group_id) AS groups FROM events GROUP BY 1 ORDER BY 1',
      'SELECT country, count(*) AS n FROM venues GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5',
    ];
    for (const lake of [folderLake, S3_LAKE]) {
      const steps: unknown[] = [];
      steps.push(await cli(lake, ['lake', 'import', '--json', path.join(work, 'input')]));
      steps.push(await cli(lake, ['lake', 'ls', '--json']));
      steps.push(await cli(lake, ['etl', '--json']));
      steps.push(await cli(lake, ['lake', 'ls', '--json']));
      for (const sql of QUERIES) steps.push(await cli(lake, ['query', '--format', 'json', sql]));
      steps.push(await cli(lake, ['stats', '--json']));
      steps.push(await cli(lake, ['report', 'build', '--json']));
      steps.push(await cli(lake, ['ml', 'train', '--json', '--trees', '10', '--seed', '7']));
      results[lake] = steps;
    }
    const [folder, bucket] = [results[folderLake]!, results[S3_LAKE]!];
    // (the inputs are real: one hour of 758 records, 519 distinct events)
    expect((folder[1] as Array<{ hour: string; records: number }>).map((h) => [h.hour, h.records])).toEqual([[HOUR, 758]]);
    expect(folder[4]).toEqual(expect.arrayContaining([expect.objectContaining({ name: expect.any(String), n: expect.any(Number) })]));
    for (let i = 0; i < folder.length; i++) expect(comparable(bucket[i]), `step ${i}`).toEqual(comparable(folder[i]));
    // And everything the S3 lake wrote is in the bucket, nothing in a local folder
    const keys = ((await s3.send(new ListObjectsV2Command({ Bucket: 'parity', Prefix: 'lake/' }))).Contents ?? []).map((o) => o.Key!);
    for (const prefix of ['lake/raw/2015/03/08/06/', 'lake/curated/events/', 'lake/_state/etl/', 'lake/reports/index.html', 'lake/models/']) {
      expect(keys.some((k) => k.startsWith(prefix)), prefix).toBe(true);
    }
    expect(existsSync(path.join(work, 'parity'))).toBe(false);
  });

  it('reads curated objects once into the object cache; a rerun hour\'s new segment is fetched and dropped copies are pruned', async () => {
    // When the same question is asked again
    proxy.requests.length = 0;
    await cli(S3_LAKE, ['query', '--format', 'json', 'SELECT count(*) AS n FROM events']);
    // Then nothing is downloaded: every curated object is cached under its ETag
    expect(curatedDownloads()).toEqual([]);

    // When new records arrive for the hour and the hour is processed again (its partitions are rewritten)
    const extra = [1, 2, 3].map((i) =>
      JSON.stringify({ id: `cache-${i}`, name: `new ${i}`, mtime: 1425795000000 + i, status: 'upcoming', event_url: 'http://e/x', group: { id: 99, name: 'g', urlname: 'g', join_mode: 'open', city: 'Oslo', country: 'no', group_lat: 1, group_lon: 2 } }),
    );
    const more = path.join(work, 'more', ...HOUR.replace('T', '-').split('-'));
    await mkdir(more, { recursive: true });
    await writeFile(path.join(more, 'extra.ndjson'), extra.join('\n') + '\n');
    await cli(S3_LAKE, ['lake', 'import', '--json', path.join(work, 'more')]);
    await cli(S3_LAKE, ['etl', '--json']);
    proxy.requests.length = 0;
    const [{ n }] = (await cli(S3_LAKE, ['query', '--format', 'json', 'SELECT count(*) AS n FROM events'])) as [{ n: number }];

    // Then the answer includes them, the changed objects were downloaded, and the cache holds exactly the current versions
    expect(n).toBe(519 + 3);
    expect(curatedDownloads().length).toBeGreaterThan(0);
    // (curated objects are content-named segment files; the live ones are those the table manifest lists)
    const manifest = JSON.parse(
      await (await s3.send(new GetObjectCommand({ Bucket: 'parity', Key: 'lake/curated/_manifest.json' }))).Body!.transformToString(),
    ) as { segments: Array<{ files: Record<string, { key: string }> }> };
    const live = manifest.segments.flatMap((seg) => Object.values(seg.files).map((f) => f.key)).sort();
    const lakeCache = (await readdir(cache)).find((d) => d.startsWith('parity_lake-'));
    const objects = path.join(cache, lakeCache!, 'objects');
    const cached = (await readdir(objects, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => path.relative(objects, path.join(e.parentPath, e.name)).split(path.sep))
      // <key's folder>/<version>/<name>: one copy per live object, none of a dropped one
      .map((parts) => [...parts.slice(0, -2), parts.at(-1)].join('/'))
      .sort();
    expect(cached).toEqual(live);
  });
});

describe('S3 writes above the multipart threshold', () => {
  const MiB = 1024 * 1024;
  const body = randomBytes(11 * MiB + 123);

  it('go up in parts and read back whole; a file is consumed once uploaded', async () => {
    const store = new S3Store('parity', 'mp', s3Client({ endpointUrl: proxy.endpoint }), { multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB, cacheDir: cache });
    await store.put('big.bin', body);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'parity', Key: 'mp/big.bin' }));
    // A multipart object's ETag ends in -<parts>: 11 MiB in 5 MiB parts is 3
    expect(head.ETag).toMatch(/-3"$/);
    expect(Buffer.from((await store.get('big.bin'))!).equals(body)).toBe(true);
    const file = path.join(work, 'upload.bin');
    await writeFile(file, body);
    await store.putFile('from-file.bin', file);
    expect(existsSync(file)).toBe(false);
    expect(Buffer.from((await store.get('from-file.bin'))!).equals(body)).toBe(true);
  });

  it('a failed part aborts the upload: the old object stays whole and no parts linger', async () => {
    const store = new S3Store('parity', 'mp', s3Client({ endpointUrl: proxy.endpoint, maxAttempts: 2 }), { multipartThresholdBytes: 5 * MiB, partSizeBytes: 5 * MiB, cacheDir: cache });
    proxy.intercept = (req) =>
      req.method === 'PUT' && /[?&]partNumber=2(&|$)/.test(req.url)
        ? { status: 500, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>' }
        : undefined;
    try {
      await expect(store.put('big.bin', randomBytes(11 * MiB))).rejects.toThrow(/internal error/i);
      await expect(store.put('never.bin', randomBytes(11 * MiB))).rejects.toThrow(/internal error/i);
    } finally {
      proxy.intercept = undefined;
    }
    expect(Buffer.from((await store.get('big.bin'))!).equals(body)).toBe(true);
    expect(await store.get('never.bin')).toBeUndefined();
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'parity' }))).Uploads ?? []).toEqual([]);
  });
});
