import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { event, H1 } from '../helpers/etl-fixtures.ts';
import { tempLake, writeRawObject } from '../helpers/etl-lake.ts';

/** Quarantine entries counted with plain fs, independently of the code under test. */
async function quarantineLines(lake: string): Promise<number> {
  const dir = path.join(lake, 'quarantine');
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  let n = 0;
  for (const e of entries) {
    if (e.isFile()) n += (await readFile(path.join(e.parentPath, e.name), 'utf8')).split('\n').filter((l) => l !== '').length;
  }
  return n;
}

describe('stats counts every quarantined record', () => {
  let lake: Awaited<ReturnType<typeof tempLake>>;
  let inputs: string;
  beforeAll(async () => {
    // Given a capture with two malformed lines (quarantined on import) and a raw object with a
    // line the ETL quarantines, both processed
    lake = await tempLake();
    inputs = await mkdtemp(path.join(os.tmpdir(), 'oe-stats-q-'));
    const capture = [
      JSON.stringify(event({ id: 'i1', mtime: 1 })),
      '{"id": "broken", "mtime": ',
      JSON.stringify(event({ id: 'i2', mtime: 2 })),
      'not json at all',
      JSON.stringify(event({ id: 'i3', mtime: 3 })),
    ];
    await writeFile(path.join(inputs, 'capture.ndjson'), capture.join('\n') + '\n');
    const imported = await runCli(['lake', 'import', path.join(inputs, 'capture.ndjson'), '--lake', lake.dir, '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    await writeRawObject(lake.store, H1, 'w-1-2.ndjson', [JSON.stringify(event({ id: 'r1', mtime: 5 })), '{"id":"cut","mti'].join('\n') + '\n');
    const etl = await runCli(['etl', '--all', '--lake', lake.dir]);
    expect(etl.code, etl.stderr).toBe(0);
  });
  afterAll(async () => {
    await lake.cleanup();
    await rm(inputs, { recursive: true, force: true });
  });

  it('adds the lines quarantined on ingest to those the ETL quarantined', async () => {
    expect(await quarantineLines(lake.dir)).toBe(2);
    const run = await runCli(['stats', '--json', '--lake', lake.dir]);
    expect(run.code, run.stderr).toBe(0);
    const { totals } = JSON.parse(run.stdout) as { totals: Record<string, number> };
    expect(totals).toMatchObject({ quarantined: 3, quarantinedOnIngest: 2, quarantinedByEtl: 1, eventsReceived: 3 + 2 + 2, uniqueEvents: 4 });
    const text = await runCli(['stats', '--lake', lake.dir]);
    expect(text.stdout).toContain('quarantined 3 (2 on ingest, 1 by the ETL)');
  });
});
