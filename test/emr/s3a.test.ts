import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAll } from '../../src/lake/store.ts';
import { captureLines, tempLake, writeRawObject } from '../helpers/etl-lake.ts';
import { H1, H2, writeEdgeLake } from '../helpers/etl-fixtures.ts';
import { dumpTables } from '../helpers/etl-tables.ts';
import { ROOT, useMoto } from '../helpers/moto.ts';

// The Spark ETL job as it runs on EMR: reading raw objects and writing the curated tables through
// s3a:// (hadoop-aws + the AWS SDK bundle that scripts/setup.sh --test puts into pyspark's jars),
// here against moto_server. The tables must equal those of the same job on local paths.
const JARS = path.join(ROOT, '.venv/lib/python3.11/site-packages/pyspark/jars');
const hasS3a = existsSync(JARS) && readdirSync(JARS).some((n) => n.startsWith('hadoop-aws-'));
const underCi = Boolean(process.env.CI) && process.env.CI !== 'false';
if (!hasS3a && !underCi) console.warn(`skipped: s3a parity (no hadoop-aws in ${JARS}; run bash scripts/setup.sh --test)`);

const moto = useMoto();
const PROCESSED_AT = '2026-11-28 07:00:00.000';

/** Spark jobs still running when the file ends (a timeout) are killed, not left behind. */
const running = new Set<ChildProcess>();

function sparkEtl(lake: string, hours: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const bin = path.join(ROOT, '.venv/bin');
  const child = spawn(path.join(bin, 'spark-submit'), ['--master', 'local[2]', '--driver-memory', '2g', '--conf', 'spark.ui.enabled=false', '--conf', 'spark.sql.shuffle.partitions=4', path.join(ROOT, 'spark/jobs/etl.py'), '--lake', lake, '--hours', hours.join(','), '--processed-at', PROCESSED_AT], {
    env: { ...env, PATH: `${bin}${path.delimiter}${env.PATH ?? ''}`, PYSPARK_PYTHON: path.join(bin, 'python') },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: spark-submit's JVM and Python workers go with it
  });
  running.add(child);
  child.once('close', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(!hasS3a && !underCi)('the Spark ETL on s3a:// paths (moto_server) gives the same tables as on local paths', () => {
  let local: Awaited<ReturnType<typeof tempLake>>;
  let fromS3: string;
  let s3: S3Client;

  beforeAll(async () => {
    expect(hasS3a, `hadoop-aws is not in ${JARS}: scripts/setup.sh --test fetches it`).toBe(true);
    s3 = new S3Client({ endpoint: moto().endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'lake' }));
    // Given raw hours: the edge cases and 150 real records, in a local lake and the same objects in the bucket
    local = await tempLake();
    await writeEdgeLake(local.store);
    const lines = captureLines().slice(0, 150);
    await writeRawObject(local.store, H1, 'real-1-75.ndjson.gz', gzipSync(lines.slice(0, 75).join('\n') + '\n'));
    await writeRawObject(local.store, H2, 'real-76-150.ndjson', lines.slice(75).join('\n') + '\n');
    for (const { key } of await listAll(local.store, 'raw/')) {
      await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: `prod/${key}`, Body: await fs.readFile(path.join(local.dir, key)) }));
    }
    fromS3 = await fs.mkdtemp(path.join(os.tmpdir(), 'oe-s3a-'));
  }, 120_000);
  afterAll(async () => {
    for (const child of running) if (child.pid) process.kill(-child.pid, 'SIGKILL');
    await local?.cleanup();
    if (fromS3) await fs.rm(fromS3, { recursive: true, force: true });
    s3?.destroy();
  });

  it('reads and writes s3a:// and the curated tables equal the local run', async () => {
    // When the job runs on local paths and on s3a:// paths (at once: each is mostly JVM and Python start-up)
    const [onLocal, onS3] = await Promise.all([sparkEtl(`file://${local.dir}`, [H1, H2], process.env), sparkEtl('s3a://lake/prod', [H1, H2], { ...process.env, ...moto().env })]);
    expect(onLocal.code, onLocal.stderr).toBe(0);
    expect(onS3.code, onS3.stderr).toBe(0);
    expect(onS3.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual(onLocal.stdout.trim().split('\n').map((l) => JSON.parse(l)));

    // Then the bucket holds the curated tables (copied down as they are), equal to the local ones
    let files = 0;
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: 'lake', Prefix: 'prod/curated/' })) {
      for (const o of page.Contents ?? []) {
        if (!o.Key!.endsWith('.parquet')) continue;
        const target = path.join(fromS3, o.Key!.slice('prod/'.length));
        await fs.mkdir(path.dirname(target), { recursive: true });
        await fs.writeFile(target, await (await s3.send(new GetObjectCommand({ Bucket: 'lake', Key: o.Key! }))).Body!.transformToByteArray());
        files += 1;
      }
    }
    expect(files).toBeGreaterThan(0);
    const [mine, theirs] = [await dumpTables(local.dir), await dumpTables(fromS3)];
    expect(mine.events!.length).toBeGreaterThan(50);
    expect(theirs).toEqual(mine);
  }, 1_200_000);
});
