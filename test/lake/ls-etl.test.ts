import { describe, expect, it } from 'vitest';
import { runEtl } from '../../src/etl/run.ts';
import { importLines } from '../../src/lake/import.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp.ts';

const tmp = tempDirs('oe-ls-');

/** A record of the open_events shape, in the given hour. */
function event(id: string, mtime: number): string {
  return JSON.stringify({
    id,
    mtime,
    name: `event ${id}`,
    status: 'upcoming',
    event_url: `http://example.com/${id}`,
    group: { id: 7, name: 'g', urlname: 'g', join_mode: 'open', city: 'Oslo', country: 'no', group_lat: 59.9, group_lon: 10.7 },
  });
}

describe('openevents lake ls', () => {
  it('shows each hour with its ETL state: processed hours with counts, others not yet', async () => {
    // Given two raw hours, of which only the first has been through the ETL
    const root = tmp();
    const store = new LocalStore(root);
    const h1 = Date.UTC(2026, 0, 1, 10, 5);
    const h2 = Date.UTC(2026, 0, 1, 11, 5);
    const lines = [event('a', h1), event('b', h1 + 1), event('c', h1 + 2), '{broken', event('d', h2)];
    await importLines(store, lines, { partitionBy: 'mtime', writer: 'test', now: Date.UTC(2026, 0, 2) });
    await runEtl(store, { select: { hours: ['2026-01-01T10'] } });

    // When the operator lists the lake as JSON and as a table
    const json = await runCli(['lake', 'ls', '--lake', root, '--json']);
    const table = await runCli(['lake', 'ls', '--lake', root]);

    // Then the processed hour carries its ETL counts and the other none
    expect(json.code, json.stderr).toBe(0);
    const hours = JSON.parse(json.stdout) as Array<{ hour: string; records: number; etl: { status: string; validRecords: number } | null }>;
    expect(hours.map((h) => [h.hour, h.records, h.etl?.status ?? null, h.etl?.validRecords ?? null])).toEqual([
      ['2026-01-01T10', 3, 'done', 3],
      ['2026-01-01T11', 1, null, null],
    ]);
    expect(table.stdout).toMatch(/2026-01-01T10 .* done .*3 ok/);
    expect(table.stdout).toMatch(/2026-01-01T11 .* -\n/);
  });
});
