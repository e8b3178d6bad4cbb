import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobFiles } from '../../src/jobs/store.ts';
import type { JobRecord } from '../../src/jobs/types.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'oe-job-files-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const record = (id: string, createdAt: string, state: JobRecord['state'] = 'succeeded'): JobRecord =>
  ({ id, kind: 'etl', label: id, state, createdAt, steps: [], runner: 'local' }) as unknown as JobRecord;

describe('job files', () => {
  it('lists newest first and sees every write of another writer, also within the same second', async () => {
    const monitor = new JobFiles(dir);
    const scheduler = new JobFiles(dir);
    expect(await monitor.list()).toEqual([]);
    await scheduler.write(record('a', '2026-11-30T10:00:00.000Z'));
    expect((await monitor.list()).map((r) => r.id)).toEqual(['a']);
    await scheduler.write(record('b', '2026-11-30T11:00:00.000Z', 'running'));
    expect((await monitor.list()).map((r) => [r.id, r.state])).toEqual([['b', 'running'], ['a', 'succeeded']]);
    await scheduler.write(record('b', '2026-11-30T11:00:00.000Z', 'failed'));
    expect((await monitor.list()).map((r) => [r.id, r.state])).toEqual([['b', 'failed'], ['a', 'succeeded']]);
  });

  it('does not read an unchanged folder again (writes rename into it, which moves its time)', async () => {
    const files = new JobFiles(dir);
    await files.write(record('a', '2026-11-30T10:00:00.000Z'));
    const old = new Date(Date.now() - 60_000);
    utimesSync(dir, old, old);
    expect((await files.list()).map((r) => r.state)).toEqual(['succeeded']);
    // Rewritten in place (never done by the toolkit): the folder's time stays, so the list is the one read before
    writeFileSync(files.file('a'), JSON.stringify(record('a', '2026-11-30T10:00:00.000Z', 'failed')));
    utimesSync(dir, old, old);
    expect((await files.list()).map((r) => r.state)).toEqual(['succeeded']);
    // Any write through JobFiles is seen
    await files.write(record('c', '2026-11-30T12:00:00.000Z'));
    expect((await files.list()).map((r) => [r.id, r.state])).toEqual([['c', 'succeeded'], ['a', 'failed']]);
  });
});
