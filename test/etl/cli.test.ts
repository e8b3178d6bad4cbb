import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempLake, writeRawObject } from '../helpers/etl-lake.ts';
import { event, H1 } from '../helpers/etl-fixtures.ts';

describe('openevents etl / query / stats', () => {
  let lake: Awaited<ReturnType<typeof tempLake>>;
  beforeAll(async () => {
    // Given a raw hour with a hostile event name (terminal escape sequence, newline) and a cut-off line
    lake = await tempLake();
    const lines = [
      JSON.stringify(event({ id: 'x1', mtime: 10, name: 'Evil \u001b[31mred\u001b[0m\nnext' })),
      JSON.stringify(event({ id: 'x2', mtime: 20, name: 'Plain, "quoted"' })),
      '{"id":"x3","mti',
    ];
    await writeRawObject(lake.store, H1, 'w-1-3.ndjson', lines.join('\n') + '\n');
  });
  afterAll(async () => lake.cleanup());

  it('runs the ETL and prints a JSON summary', async () => {
    const run = await runCli(['etl', '--lake', lake.dir, '--all', '--json']);
    expect(run.stderr).toContain(`[batch 1/1] ${H1}: 1 hour(s), 3 records (2 valid, 1 quarantined)`);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ engine: 'duckdb', hours: [H1], rawRecords: 3, validRecords: 2, quarantined: 1, failed: [] });
  });

  it('prints query results as an aligned table with control characters escaped', async () => {
    const run = await runCli(['query', '--lake', lake.dir, 'SELECT event_id, name, yes_rsvp_count FROM events ORDER BY event_id']);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('\u001b');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^event_id\s+name\s+yes_rsvp_count$/);
    expect(lines[2]).toContain('Evil \\u001b[31mred\\u001b[0m\\nnext');
    expect(lines.at(-1)).toBe('(2 rows)');
  });

  it('prints CSV and JSON', async () => {
    const csv = await runCli(['query', '--lake', lake.dir, '--format', 'csv', "SELECT event_id, name FROM events WHERE event_id = 'x2'"]);
    expect(csv.stdout).toBe('event_id,name\r\nx2,"Plain, ""quoted"""\r\n');
    const json = await runCli(['query', '--lake', lake.dir, '--format', 'json', 'SELECT count(*) AS n, max(mtime) AS m FROM events']);
    expect(JSON.parse(json.stdout)).toEqual([{ n: 2, m: 20 }]);
  });

  it('prints stats, as text and as JSON', async () => {
    const json = await runCli(['stats', '--lake', lake.dir, '--json']);
    expect(json.code).toBe(0);
    const stats = JSON.parse(json.stdout);
    expect(stats.totals).toMatchObject({ eventsReceived: 3, uniqueEvents: 2, quarantined: 1, groups: 1, venues: 1 });
    expect(stats.top.categories).toEqual([{ name: 'dancing', count: 2 }]);
    const text = await runCli(['stats', '--lake', lake.dir]);
    expect(text.stdout).toContain('events received 3   unique events 2');
    expect(text.stdout).not.toContain('\u001b');
  });

  it('explains bad input and exits 1', async () => {
    const hour = await runCli(['etl', '--lake', lake.dir, '--hour', '2015-03-08 06']);
    expect(hour.code).toBe(1);
    expect(hour.stderr).toContain('--hour must be an hour as YYYY-MM-DDTHH');
    const sql = await runCli(['query', '--lake', lake.dir, 'SELECT * FROM nosuchtable']);
    expect(sql.code).toBe(1);
    expect(sql.stderr).toMatch(/query failed: .*nosuchtable/);
    expect(sql.stderr).toContain('hint: tables: categories');
  });
});
