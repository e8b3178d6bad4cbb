import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../src/aws/clients.ts';
import { runEtl } from '../../src/etl/run.ts';
import { checkLake } from '../../src/lake/check.ts';
import { rawObjectKey } from '../../src/lake/layout.ts';
import { closeHour } from '../../src/lake/manifest.ts';
import { S3Store } from '../../src/lake/s3-store.ts';
import { hourOwners, readTableManifest } from '../../src/etl/segments.ts';
import { event, H1, H2 } from '../helpers/etl-fixtures.ts';
import { useMoto } from '../helpers/moto.ts';

describe('lake check on an s3:// lake (against moto_server)', () => {
  const moto = useMoto();
  let store: S3Store;
  beforeAll(async () => {
    // Given two processed, closed raw hours in a bucket
    await s3Client().send(new CreateBucketCommand({ Bucket: 'checked' }));
    store = S3Store.fromUrl('s3://checked/lake');
    const nd = (...ids: string[]): Buffer => gzipSync(ids.map((id, i) => JSON.stringify(event({ id, mtime: i + 1 }))).join('\n') + '\n');
    await store.put(rawObjectKey(H1, 'w', 1, 2), nd('a', 'b'));
    await store.put(rawObjectKey(H2, 'w', 3, 5), nd('c', 'd', 'e'));
    for (const hour of [H1, H2]) await closeHour(store, hour, Date.now());
    expect((await runEtl(store, { select: { all: true } })).failed).toEqual([]);
    expect(moto().endpoint).toMatch(/^http/);
  }, 60_000);

  it('reads the curated Parquet through the store, finds a deleted and a damaged object, and repairs both', async () => {
    expect((await checkLake(store)).findings).toEqual([]);
    // When one curated object is deleted and another overwritten with half of itself
    const segment = hourOwners(await readTableManifest(store)).get(H1)!.segment;
    const events = segment.files.events?.key;
    const changes = segment.files.event_changes?.key;
    await store.delete(events!);
    const bytes = (await store.get(changes!))!;
    await store.put(changes!, bytes.subarray(0, Math.floor(bytes.length / 2)));

    const report = await checkLake(store, { repair: true });
    expect(report.findings.map((f) => [f.kind, f.key, f.repaired])).toEqual([
      ['curated-missing', events, true],
      ['curated-unreadable', changes, true],
    ]);
    expect(report.ok).toBe(true);
    expect((await checkLake(store)).findings).toEqual([]);
  });
});
