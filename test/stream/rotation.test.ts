import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import { listRawHours } from '../../src/lake/hours.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { startSourceServer, type SourceServer } from '../../src/source/server.ts';
import { runStreamer } from '../../src/stream/streamer.ts';
import { rawFiles, readRawLines } from '../helpers/stream-lake.ts';
import { CAPTURE } from '../helpers/fixtures.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('raw lake writing', () => {
  it('rotates by size and at the hour boundary, names files by contiguous sequence ranges, and closes the hour after the grace period', async () => {
    // Given the capture served at 400 events/s, and a clock on which the UTC hour ends 0.8 s after
    // the streamer connects (it stands still before that, however long a busy machine takes to get there)
    const server: SourceServer = await startSourceServer({ replay: [CAPTURE], rate: 400 });
    cleanups.push(() => server.close());
    const lake = await mkdtemp(path.join(os.tmpdir(), 'oe-rotation-'));
    cleanups.push(() => rm(lake, { recursive: true, force: true }));
    const boundary = Math.ceil(Date.now() / 3_600_000 + 1) * 3_600_000;
    let connectedAt: number | undefined;
    const now = (): number => boundary - 800 + (connectedAt === undefined ? 0 : Date.now() - connectedAt);
    const settings = configSchema.parse({ stream: { rotateBytes: 60_000, rotateAgeMs: 30_000, hourGraceMs: 300, statsIntervalMs: 200 } }).stream;
    const before = new Date(boundary - 1).toISOString().slice(0, 13);
    const after = new Date(boundary).toISOString().slice(0, 13);

    // When the streamer runs until the capture is durable and the first hour has its manifest
    const stop = new AbortController();
    const manifestPath = path.join(lake, 'raw', before.replace(/-|T/g, '/'), '_manifest.json');
    const run = runStreamer({
      url: server.url,
      store: new LocalStore(lake),
      settings,
      now,
      stopSignal: stop.signal,
      onNotice: (n) => {
        if (n.kind === 'connected') connectedAt ??= Date.now();
      },
      onStats: (s) => {
        if (s.events >= 758 && now() > boundary + 600) stop.abort();
      },
    });
    const timer = setTimeout(() => stop.abort(), 30_000);
    const summary = await run;
    clearTimeout(timer);
    expect(summary.durable).toBe(758);

    // Then the files sit in both hours, and their names give contiguous, non-overlapping sequence ranges
    const files = await rawFiles(lake);
    const hoursOf = new Set(files.map((f) => path.relative(path.join(lake, 'raw'), path.dirname(f))));
    expect(hoursOf).toEqual(new Set([before.replace(/-|T/g, '/'), after.replace(/-|T/g, '/')]));
    const ranges = await Promise.all(
      files.map(async (f) => {
        const m = /^w1-(\d+)-(\d+)\.ndjson\.gz$/.exec(path.basename(f))!;
        return { first: Number(m[1]), last: Number(m[2]), records: (await readRawLines(lake, [f])).length, file: f };
      }),
    );
    ranges.sort((a, b) => a.first - b.first);
    expect(ranges.length).toBeGreaterThan(3); // rotated by size, not only at the hour
    let next = 1;
    for (const r of ranges) {
      expect(r.first).toBe(next);
      expect(r.records).toBe(r.last - r.first + 1);
      next = r.last + 1;
    }
    expect(next - 1).toBe(758);

    // And the ended hour is closed with a manifest that matches its files; the current one is open
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { hour: string; files: Array<{ key: string; records: number }>; records: number };
    const inBefore = ranges.filter((r) => r.file.includes(`/raw/${before.replace(/-|T/g, '/')}/`));
    expect(manifest.hour).toBe(before);
    // (the manifest lists its files by key, as an object listing does: "w1-92-…" after "w1-175-…")
    const byKey = (a: [string, number], b: [string, number]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
    expect(manifest.files.map((f): [string, number] => [path.join(lake, f.key), f.records])).toEqual(inBefore.map((r): [string, number] => [r.file, r.records]).sort(byKey));
    expect(manifest.records).toBe(inBefore.reduce((n, r) => n + r.records, 0));
    const listed = await listRawHours(new LocalStore(lake));
    expect(listed.map((h) => [h.hour, h.closed, h.records])).toEqual([
      [before, true, manifest.records],
      [after, false, 758 - manifest.records],
    ]);
  });
});
