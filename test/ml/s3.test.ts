import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { s3Client } from '../../src/aws/clients.ts';
import { configSchema } from '../../src/config/schema.ts';
import { S3Store } from '../../src/lake/s3-store.ts';
import { listAll } from '../../src/lake/store.ts';
import { listRuns, readRunMetrics } from '../../src/ml/runs.ts';
import { evaluateRun, paramsFromConfig, predictText, trainModel } from '../../src/ml/service.ts';
import { startMoto, type Moto } from '../helpers/moto.ts';
import { corpusDocs, generateCorpus } from '../helpers/ml-corpus.ts';
import { describeWith } from '../helpers/requires.ts';

describeWith(['venv'], 'runs in an s3:// lake (against moto_server)', () => {
  let moto: Moto;
  let store: S3Store;
  const saved = { ...process.env };

  beforeAll(async () => {
    moto = await startMoto();
    const options = { endpointUrl: moto.endpoint, env: { ...moto.env } };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' });
    await s3Client(options).send(new CreateBucketCommand({ Bucket: 'lake' }));
    store = S3Store.fromUrl('s3://lake/ml', options);
  }, 60_000);

  afterAll(async () => {
    process.env = saved;
    await moto?.stop();
  });

  it('writes a run to the bucket, and evaluates and predicts from it', async () => {
    // Given labelled events, when a run is trained into the bucket
    const docs = corpusDocs(generateCorpus({ events: 600, seed: 8 }));
    const run = await trainModel(store, { params: paramsFromConfig(configSchema.parse({}).ml, { trees: 20 }), docs });
    // Then its objects are in the bucket and it is the newest run
    const keys = (await listAll(store, `models/${run.runId}/`)).map((o) => o.key.slice(`models/${run.runId}/`.length)).sort();
    expect(keys).toEqual(['metrics.json', 'model.json', 'params.json', 'split.json', 'test-set.ndjson.gz']);
    expect(await listRuns(store)).toEqual([run.runId]);
    expect(await readRunMetrics(store, run.runId)).toEqual(JSON.parse(JSON.stringify(run)));
    // And the model read back from S3 reproduces the run's metrics and answers questions
    expect((await evaluateRun(store)).metrics).toEqual(run.metrics);
    expect((await predictText(store, 'kayak trip on the river then camping by the lake')).label).toBe('outdoors-adventure');
  });
});
