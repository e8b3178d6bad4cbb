import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../src/aws/clients.ts';
import { runEtl } from '../../src/etl/run.ts';
import { S3Store } from '../../src/lake/s3-store.ts';
import { listAll } from '../../src/lake/store.ts';
import { runCli } from '../helpers/cli.ts';
import { H1, H2, writeEdgeLake } from '../helpers/etl-fixtures.ts';
import { captureLines, tempLake, writeRawObject } from '../helpers/etl-lake.ts';
import { dumpTables } from '../helpers/etl-tables.ts';
import { startFakeEmr, type FakeEmr } from '../helpers/fake-emr.ts';
import { ROOT, useMoto } from '../helpers/moto.ts';
import { stepRunner } from '../helpers/emr-steps.ts';

// The EMR engine end to end: `etl --engine emr` and `emr run` against a fake EMR endpoint whose
// cluster runs its step for real — spark/jobs/etl.py by spark-submit on this machine, reading the
// plan and raw objects and writing the segment files through s3a:// (hadoop-aws + the AWS SDK
// bundle that scripts/setup.sh --test puts into pyspark's jars) on moto_server, as on EMR. The
// tables must equal those the DuckDB engine makes of the same raw objects in a local lake.
const JARS = path.join(ROOT, '.venv/lib/python3.11/site-packages/pyspark/jars');
const hasS3a = existsSync(JARS) && readdirSync(JARS).some((n) => n.startsWith('hadoop-aws-'));
const underCi = Boolean(process.env.CI) && process.env.CI !== 'false';
if (!hasS3a && !underCi) console.warn(`skipped: the EMR engine on s3a (no hadoop-aws in ${JARS}; run bash scripts/setup.sh --test)`);

const moto = useMoto();
const LAKE = 's3://lake/prod';
const H3 = '2015-03-08T08'; // a corrupt gzip: fails alone
const H4 = '2015-03-08T09'; // for `emr run`

/** Runs an EMR step's command on this machine: its spark-submit in local mode, the code bundle being this checkout. */
const steps = stepRunner(() => moto().env);
const runStepHere = (args: string[]) => steps.run(args);

describe.skipIf(!hasS3a && !underCi)('the EMR engine: etl.py as an EMR step on s3a:// (moto_server) gives the tables of the DuckDB engine', () => {
  let local: Awaited<ReturnType<typeof tempLake>>;
  let fake: FakeEmr;
  let s3: S3Client;
  let work: string;
  let cache: string;

  beforeAll(async () => {
    expect(hasS3a, `hadoop-aws is not in ${JARS}: scripts/setup.sh --test fetches it`).toBe(true);
    s3 = new S3Client({ endpoint: moto().endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'lake' }));
    fake = await startFakeEmr({
      putLog: async (uri, gzipped, body) => {
        const m = /^s3n?:\/\/([^/]+)\/(.*)$/.exec(uri)!;
        await s3.send(new PutObjectCommand({ Bucket: m[1], Key: m[2], Body: gzipped ? gzipSync(body) : body }));
      },
    });
    // Given raw hours: the edge cases and 150 real records, an hour with a corrupt gzip and one more
    // hour, in a local lake and the same objects in the bucket
    local = await tempLake();
    await writeEdgeLake(local.store);
    const lines = captureLines().slice(0, 200);
    await writeRawObject(local.store, H1, 'real-1-75.ndjson.gz', gzipSync(lines.slice(0, 75).join('\n') + '\n'));
    await writeRawObject(local.store, H2, 'real-76-150.ndjson', lines.slice(75, 150).join('\n') + '\n');
    await writeRawObject(local.store, H3, 'good-1-10.ndjson', lines.slice(150, 160).join('\n') + '\n');
    await writeRawObject(local.store, H3, 'bad-1-10.ndjson.gz', gzipSync(lines.slice(160, 170).join('\n')).subarray(0, 40));
    await writeRawObject(local.store, H4, 'later-1-30.ndjson', lines.slice(170, 200).join('\n') + '\n');
    for (const { key } of await listAll(local.store, 'raw/')) {
      await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: `prod/${key}`, Body: await fs.readFile(path.join(local.dir, key)) }));
    }
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'oe-emr-engine-'));
    cache = path.join(work, 'cache');
  }, 120_000);
  afterAll(async () => {
    steps.killAll();
    await fake?.close();
    await local?.cleanup();
    if (work) await fs.rm(work, { recursive: true, force: true });
    s3?.destroy();
  });

  const cli = (args: string[]) =>
    runCli(args, { env: { ...process.env, ...moto().env, AWS_ENDPOINT_URL_EMR: fake.endpoint, OPENEVENTS_LAKE: LAKE, OPENEVENTS_AWS_EMR_POLL_SECONDS: '1' }, cwd: work });
  const clustersStarted = (): number => fake.requests.filter((r) => r.operation === 'RunJobFlow').length;
  const s3Tables = () => dumpTables(new S3Store('lake', 'prod', s3Client({ endpointUrl: moto().endpoint })), undefined, { cacheDir: cache });

  it('etl --engine emr --from/--to: one cluster runs the batched plan, each batch committed; the corrupt hour fails alone and is named', async () => {
    // When the hours are processed by the EMR engine (the cluster's step runs etl.py for real)
    fake.next = { tickMs: 200, runStep: (step) => runStepHere(step.args) };
    const run = await cli(['etl', '--engine', 'emr', '--from', H1, '--to', H3, '--json']);

    // Then the corrupt hour fails, named with its object; the others are done, from one cluster
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`1 hour(s) failed: ${H3}`);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ engine: 'emr', hours: [H1, H2, H3], failed: [H3] });
    expect(result.states.find((s: { hour: string }) => s.hour === H3).error).toContain('raw/2015/03/08/08/bad-1-10.ndjson.gz');
    expect(clustersStarted()).toBe(1);
    const step = (fake.requests.find((r) => r.operation === 'RunJobFlow')!.body.Steps as Array<{ HadoopJarStep: { Args: string[] } }>)[0]!.HadoopJarStep.Args;
    expect(step).toContain('--plan');
    // and the plan's folder is gone once every batch is committed
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: 'prod/_emr/etl/' }))).KeyCount).toBe(0);

    // and the tables equal those of the DuckDB engine on the same raw objects in a local lake
    const duck = await runEtl(local.store, { select: { hours: [H1, H2, H3] }, engine: 'duckdb' });
    expect(duck.failed).toEqual([H3]);
    const [mine, theirs] = [await dumpTables(local.dir), await s3Tables()];
    expect(mine.events!.length).toBeGreaterThan(50);
    expect(theirs).toEqual(mine);
  }, 1_200_000);

  it('emr run starts the hour\'s plan; etl --engine emr waits for that cluster and commits its results, starting none', async () => {
    // When `emr run` starts a cluster for an hour and does not wait
    fake.next = { tickMs: 200, runStep: (step) => runStepHere(step.args) };
    const before = clustersStarted();
    const started = await cli(['emr', 'run', '--hour', H4, '--json']);
    expect(started.code, started.stderr).toBe(0);
    expect(JSON.parse(started.stdout).started).toBe(true);

    // and the ETL of the same hour runs on the EMR engine meanwhile
    const run = await cli(['etl', '--engine', 'emr', '--hour', H4, '--json']);

    // Then it found the running cluster (none more was started) and committed what it wrote
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ engine: 'emr', hours: [H4], failed: [] });
    expect(clustersStarted()).toBe(before + 1);
    await runEtl(local.store, { select: { hours: [H4] }, engine: 'duckdb' });
    expect(await s3Tables()).toEqual(await dumpTables(local.dir));
  }, 1_200_000);
});
