import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openCurated, queryRows } from '../../src/etl/curated.ts';
import { runEtl } from '../../src/etl/run.ts';
import { computeStats, type Stats } from '../../src/etl/stats.ts';
import { readEtlState } from '../../src/etl/state.ts';
import { captureLines, mtimeHour, tempLake, writeRawByHour } from '../helpers/etl-lake.ts';

interface Rec {
  id: string;
  mtime: number;
  status: string;
  group: { id: number; category?: { name: string } };
}

describe('the shared real capture, imported by mtime', () => {
  let lake: Awaited<ReturnType<typeof tempLake>>;
  let db: DuckDBConnection;
  let stats: Stats;
  const lines = captureLines();
  // Independent expectations, straight from the raw file: the newest record per id (a later line wins a tie).
  const parsed: Rec[] = [];
  const broken: string[] = [];
  for (const line of lines) {
    try {
      parsed.push(JSON.parse(line) as Rec);
    } catch {
      broken.push(line);
    }
  }
  const newest = new Map<string, Rec>();
  for (const r of parsed) if (!newest.has(r.id) || r.mtime >= (newest.get(r.id) as Rec).mtime) newest.set(r.id, r);
  const groupNewest = new Map<number, Rec>();
  for (const r of parsed) if (!groupNewest.has(r.group.id) || r.mtime >= (groupNewest.get(r.group.id) as Rec).mtime) groupNewest.set(r.group.id, r);

  beforeAll(async () => {
    // Given the capture written into raw hours by event mtime (the cut-off line into the last hour)
    lake = await tempLake();
    await writeRawByHour(lake.store, lines, (l) => mtimeHour(l, '2015-03-08T07'));
    // When the ETL processes the pending hours (all of them, the first time)
    const result = await runEtl(lake.store);
    expect(result.failed).toEqual([]);
    db = await openCurated(lake.store);
    stats = await computeStats(lake.store, { connection: db });
  });
  afterAll(async () => {
    db?.closeSync();
    await lake.cleanup();
  });

  it('holds exactly the distinct ids, each with the status of its newest record', async () => {
    expect(newest.size).toBe(519);
    const rows = await queryRows(db, `SELECT event_id, status FROM events ORDER BY event_id`);
    const expected = [...newest.values()].map((r) => ({ event_id: r.id, status: r.status })).sort((a, b) => (a.event_id < b.event_id ? -1 : 1));
    expect(rows).toEqual(expected);
  });

  it('counts categories over unique events like an independent count of the raw file', async () => {
    // An event's category is its group's, from the group's newest snapshot.
    const counts = new Map<string, number>();
    for (const r of newest.values()) {
      const category = groupNewest.get(r.group.id)?.group.category?.name;
      if (category) counts.set(category, (counts.get(category) ?? 0) + 1);
    }
    const all = await queryRows(
      db,
      `SELECT c.name, count(*)::INTEGER AS n FROM events e JOIN groups g USING (group_id) JOIN categories c USING (category_id) GROUP BY 1`,
    );
    expect(Object.fromEntries(all.map((r) => [r.name, r.n]))).toEqual(Object.fromEntries(counts));
    const top10 = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 10);
    expect(stats.top.categories).toEqual(top10.map(([name, count]) => ({ name, count })));
  });

  it('reports totals, the status mix and the quarantined cut-off line', async () => {
    expect(stats.totals.eventsReceived).toBe(lines.length);
    expect(stats.totals.uniqueEvents).toBe(519);
    expect(stats.totals.quarantined).toBe(broken.length);
    expect(stats.totals.groups).toBe(groupNewest.size);
    const statusCounts = new Map<string, number>();
    for (const r of newest.values()) statusCounts.set(r.status, (statusCounts.get(r.status) ?? 0) + 1);
    expect(Object.fromEntries(stats.statusMix.map((s) => [s.name, s.count]))).toEqual(Object.fromEntries(statusCounts));
    const q = await queryRows(db, `SELECT reason, raw FROM quarantine`);
    expect(q).toEqual(broken.map((raw) => ({ reason: 'invalid_json', raw })));
    // Group countries are lowercase ISO-2 codes only.
    expect(stats.top.groupCountries.every((c) => /^[a-z]{2}$/.test(c.name))).toBe(true);
  });

  it('records every hour in the ETL state and shows none pending', async () => {
    const state = await readEtlState(lake.store);
    expect(state.hours.every((h) => h.status === 'done')).toBe(true);
    expect(state.hours.reduce((n, h) => n + h.rawRecords, 0)).toBe(lines.length);
    expect(stats.freshness.filter((f) => f.stale)).toEqual([]);
    expect((await runEtl(lake.store)).states).toEqual([]);
  });
});
