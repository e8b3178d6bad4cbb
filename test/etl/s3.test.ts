import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openCurated, queryRows } from '../../src/etl/curated.ts';
import { runEtl } from '../../src/etl/run.ts';
import { readEtlState } from '../../src/etl/state.ts';
import { readTableManifest } from '../../src/etl/segments.ts';
import { listAll } from '../../src/lake/store.ts';
import { rawObjectKey } from '../../src/lake/layout.ts';
import { S3Store } from '../../src/lake/s3-store.ts';
import { s3Client } from '../../src/aws/clients.ts';
import { startMoto, type Moto } from '../helpers/moto.ts';
import { event, H1, H2 } from '../helpers/etl-fixtures.ts';
import { describeWith } from '../helpers/requires.ts';

describeWith(['venv'], 'an s3:// lake with the DuckDB engine (through the ObjectStore, against moto_server)', () => {
  let moto: Moto;
  let store: S3Store;
  let cache: string;
  beforeAll(async () => {
    moto = await startMoto();
    const options = { endpointUrl: moto.endpoint, env: { ...moto.env } };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' });
    await s3Client(options).send(new CreateBucketCommand({ Bucket: 'lake' }));
    store = S3Store.fromUrl('s3://lake/prod', options);
    cache = await fs.mkdtemp(path.join(os.tmpdir(), 'oe-etl-cache-'));
    // Given raw hours in the bucket
    const nd = (...events: Array<Record<string, unknown>>): Buffer => gzipSync(events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    await store.put(rawObjectKey(H1, 'w', 1, 2), nd(event({ id: 'a', mtime: 1 }), event({ id: 'b', mtime: 1 })));
    await store.put(rawObjectKey(H2, 'w', 3, 3), nd(event({ id: 'a', mtime: 2, status: 'canceled' })));
  }, 60_000);
  afterAll(async () => {
    await moto?.stop();
    await fs.rm(cache, { recursive: true, force: true });
  });

  it('writes the curated partitions and the state to the bucket and reads them back', async () => {
    const run = await runEtl(store, { select: { all: true } });
    expect(run.failed).toEqual([]);
    // One engine pass: one segment (the hours are in one closed month), its files named by content
    const keys = (await listAll(store, 'curated/events/')).map((o) => o.key);
    expect(keys).toEqual([expect.stringMatching(new RegExp(`^curated/events/${H1}_${H2}-[0-9a-f]{16}\\.parquet$`))]);
    expect((await readTableManifest(store))?.segments.map((s) => Object.keys(s.hours))).toEqual([[H1, H2]]);
    expect((await readEtlState(store)).hours.map((h) => h.status)).toEqual(['done', 'done']);
    const db = await openCurated(store, { cacheDir: cache });
    try {
      expect(await queryRows(db, `SELECT event_id, status FROM events ORDER BY 1`)).toEqual([
        { event_id: 'a', status: 'canceled' },
        { event_id: 'b', status: 'upcoming' },
      ]);
    } finally {
      db.closeSync();
    }
  });

  it('reruns an hour in place and the mirror follows', async () => {
    // When hour 2's raw object is replaced by one with a newer version of b and the hour rerun
    await store.put(rawObjectKey(H2, 'w', 3, 3), gzipSync(JSON.stringify(event({ id: 'b', mtime: 5, status: 'deleted' })) + '\n'));
    await runEtl(store, { select: { hours: [H2] } });
    const db = await openCurated(store, { cacheDir: cache });
    try {
      // Then a is back to its hour-1 version and b is deleted
      expect(await queryRows(db, `SELECT event_id, status FROM events ORDER BY 1`)).toEqual([
        { event_id: 'a', status: 'upcoming' },
        { event_id: 'b', status: 'deleted' },
      ]);
    } finally {
      db.closeSync();
    }
  });
});
