import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openCurated, queryRows } from '../../src/etl/curated.ts';
import { runEtl } from '../../src/etl/run.ts';
import { computeStats, type Stats } from '../../src/etl/stats.ts';
import { readEtlState } from '../../src/etl/state.ts';
import { importLines } from '../../src/lake/import.ts';
import { captureLines, tempLake } from '../helpers/etl-lake.ts';

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
    // Given the capture imported into raw hours by event mtime (`lake import`; it skips the cut-off last line)
    lake = await tempLake();
    const imported = await importLines(lake.store, lines, { partitionBy: 'mtime', writer: 'capture', now: Date.UTC(2026, 0, 1) });
    expect(imported.records).toBe(parsed.length);
    expect(imported.skipped.cutOff).toBe(broken.length);
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

  it('reports totals and the status mix', async () => {
    // Every imported record was received and placed; the cut-off line never reached the raw lake.
    expect(broken).toHaveLength(1);
    expect(stats.totals.eventsReceived).toBe(parsed.length);
    expect(stats.totals.uniqueEvents).toBe(519);
    expect(stats.totals.eventChanges).toBe(new Set(parsed.map((r) => `${r.id}@${r.mtime}`)).size);
    expect(stats.totals.quarantined).toBe(0);
    expect(stats.totals.groups).toBe(groupNewest.size);
    const statusCounts = new Map<string, number>();
    for (const r of newest.values()) statusCounts.set(r.status, (statusCounts.get(r.status) ?? 0) + 1);
    expect(Object.fromEntries(stats.statusMix.map((s) => [s.name, s.count]))).toEqual(Object.fromEntries(statusCounts));
    // Group countries are lowercase ISO-2 codes only.
    expect(stats.top.groupCountries.every((c) => /^[a-z]{2}$/.test(c.name))).toBe(true);
  });

  it('records every hour in the ETL state and shows none pending', async () => {
    const state = await readEtlState(lake.store);
    expect(state.hours.every((h) => h.status === 'done')).toBe(true);
    expect(state.hours.reduce((n, h) => n + h.rawRecords, 0)).toBe(parsed.length);
    expect(stats.freshness.filter((f) => f.stale)).toEqual([]);
    expect((await runEtl(lake.store)).states).toEqual([]);
  });
});
