import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putJson } from '../../src/lake/store.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { activity, loadNewestModel, loadReportData } from '../../src/report/load.ts';
import type { ReportData } from '../../src/report/types.ts';
import { HOSTILE, sampleMetrics } from '../helpers/report-fixtures.ts';
import { removeLake, synthesizeCuratedLake } from '../helpers/report-lake.ts';

/** Runs SQL straight over the lake's Parquet files — independently of openCurated/computeStats. */
async function direct(root: string, sql: string): Promise<Array<Record<string, unknown>>> {
  const instance = await DuckDBInstance.create(':memory:');
  const db = await instance.connect();
  try {
    // Dimension rows repeat in every arrival hour that mentions them: keep the newest per key.
    const keys: Record<string, string | undefined> = { events: 'event_id', groups: 'group_id', venues: 'venue_key', categories: 'category_id', hours: undefined };
    for (const [t, key] of Object.entries(keys)) {
      const newest = key ? ` QUALIFY row_number() OVER (PARTITION BY ${key} ORDER BY mtime DESC, arrival_hour DESC) = 1` : '';
      await db.run(`CREATE VIEW ${t} AS SELECT * FROM read_parquet('${root}/curated/${t}/*.parquet')${newest}`);
    }
    return (await db.runAndReadAll(sql)).getRowObjectsJson() as Array<Record<string, unknown>>;
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

describe('loadReportData over a curated lake', () => {
  let root: string;
  let data: ReportData;

  beforeAll(async () => {
    // Given a synthesized curated lake of 3,000 unique events over 30 hours with hostile names
    root = await mkdtemp(path.join(os.tmpdir(), 'oe-report-load-'));
    await synthesizeCuratedLake(root, { events: 3000, hours: 30, hostile: HOSTILE, gapHours: [5], revisions: 0.4 });
    // When the report data is loaded
    data = await loadReportData(new LocalStore(root), { now: () => new Date('2026-01-01T00:00:00Z') });
  });
  afterAll(async () => {
    await removeLake(new LocalStore(root), root);
  });

  it('counts the KPIs as the tables hold them', async () => {
    const [expected] = await direct(
      root,
      `SELECT (SELECT sum(raw_records) FROM hours)::DOUBLE AS received, (SELECT count(*) FROM events)::DOUBLE AS uniq,
              (SELECT count(*) FROM groups)::DOUBLE AS groups, (SELECT count(*) FROM venues)::DOUBLE AS venues,
              (SELECT sum(quarantined) FROM hours)::DOUBLE AS q`,
    );
    expect(data.totals).toMatchObject({
      eventsReceived: expected!.received,
      uniqueEvents: 3000,
      groups: expected!.groups,
      venues: expected!.venues,
      quarantined: expected!.q,
    });
    expect(data.generatedAt).toBe('2026-01-01T00:00:00.000Z');
  });

  it('ranks event names and venue countries over unique events, country codes upper-cased', async () => {
    const names = await direct(root, `SELECT name AS label, count(*)::DOUBLE AS count FROM events GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10`);
    expect(data.top.eventNames).toEqual(names);
    expect(data.top.eventNames.map((r) => r.label)).toContain(HOSTILE);
    const countries = await direct(
      root,
      `SELECT upper(v.country) AS label, count(*)::DOUBLE AS count FROM events e JOIN venues v USING (venue_key) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10`,
    );
    expect(data.top.venueCountries).toEqual(countries);
  });

  it('covers every hour of the range once, zeros included, and the freshness of each', async () => {
    const hours = await direct(root, `SELECT arrival_hour AS hour, raw_records::DOUBLE AS n FROM hours ORDER BY 1`);
    const first = String(hours[0]!.hour);
    const last = String(hours.at(-1)!.hour);
    expect(data.coveredFrom).toBe(first);
    expect(data.coveredTo).toBe(last);
    const span = (Date.parse(`${last}:00Z`) - Date.parse(`${first}:00Z`)) / 3_600_000 + 1;
    expect(data.eventsPerHour).toHaveLength(span);
    // The quiet hour (index 5) is there with zero records; every other hour has its own count.
    expect(hours.map((h) => h.hour)).not.toContain('2015-03-08T05');
    expect(data.eventsPerHour[5]).toEqual({ hour: '2015-03-08T05', events: 0 });
    const byHour = new Map(hours.map((h) => [h.hour, h.n]));
    for (const h of data.eventsPerHour) expect(h.events).toBe(byHour.get(h.hour) ?? 0);
    expect(data.freshness).toHaveLength(hours.length);
    // The synthesized ETL finished each hour 65 minutes after it began; raw data last arrived at :59.
    expect(data.freshness[0]).toEqual({ hour: '2015-03-08T00', rawArrivedAt: '2015-03-08T00:59:00.000Z', etlDoneAt: '2015-03-08T01:05:00.000Z' });
    expect(data.lastUpdate).toBe(new Date(Date.parse(`${last}:00Z`) + 65 * 60_000).toISOString());
  });

  it('puts every located group with events on the map exactly once', async () => {
    const [expected] = await direct(
      root,
      `SELECT count(DISTINCT g.group_id)::DOUBLE AS groups, count(*)::DOUBLE AS events FROM events e JOIN groups g USING (group_id) WHERE g.lat IS NOT NULL`,
    );
    expect(data.groupLocations.reduce((n, g) => n + g.groups, 0)).toBe(expected!.groups);
    expect(data.groupLocations.reduce((n, g) => n + g.events, 0)).toBe(expected!.events);
    for (const g of data.groupLocations) {
      expect(Math.abs(g.lat)).toBeLessThanOrEqual(90);
      expect(Math.abs(g.lon)).toBeLessThanOrEqual(180);
    }
  });

  it('has no model section until a model is trained', () => {
    expect(data.model).toBeNull();
  });
});

describe('loadNewestModel', () => {
  it('picks the latest trainedAt and names files it could not read', async () => {
    // Given two runs (the older one with the later-sorting id) and a broken one
    const root = await mkdtemp(path.join(os.tmpdir(), 'oe-report-model-'));
    try {
      const store = new LocalStore(root);
      await putJson(store, 'models/z-old/metrics.json', sampleMetrics({ runId: 'z-old', trainedAt: '2026-11-27T10:00:00Z' }));
      await putJson(store, 'models/a-new/metrics.json', sampleMetrics({ runId: 'a-new', trainedAt: '2026-11-28T10:00:00Z' }));
      await store.put('models/broken/metrics.json', '{"runId": ');
      await putJson(store, 'models/other/model.json', { not: 'metrics' });
      // When the newest is looked up
      const { model, note } = await loadNewestModel(store);
      // Then the newest by training time wins and the broken file is reported, not fatal
      expect(model?.runId).toBe('a-new');
      expect(note).toContain('models/broken/metrics.json');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('reports a metrics file of the wrong shape instead of drawing it', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'oe-report-model-'));
    try {
      const store = new LocalStore(root);
      await putJson(store, 'models/r1/metrics.json', { runId: 'r1', engine: 'ts', trainedAt: '2026-11-28T10:00:00Z', metrics: { accuracy: 'high' } });
      const { model, note } = await loadNewestModel(store);
      expect(model).toBeNull();
      expect(note).toContain('models/r1/metrics.json');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('activity buckets', () => {
  it('draws up to 45 days per hour, with quiet hours as zeros', () => {
    const { unit, buckets } = activity([{ hour: '2026-01-01T00', events: 5 }, { hour: '2026-01-01T03', events: 2 }], { firstHour: '2026-01-01T00', lastHour: '2026-01-01T03' });
    expect(unit).toBe('hour');
    expect(buckets).toEqual([
      { hour: '2026-01-01T00', events: 5 },
      { hour: '2026-01-01T01', events: 0 },
      { hour: '2026-01-01T02', events: 0 },
      { hour: '2026-01-01T03', events: 2 },
    ]);
  });

  it('draws longer ranges per day, every day counted once and summed', () => {
    // Given records in three hours spread over 60 days
    const perHour = [
      { hour: '2026-01-01T05', events: 1 },
      { hour: '2026-01-01T23', events: 2 },
      { hour: '2026-03-01T10', events: 4 },
    ];
    const { unit, buckets } = activity(perHour, { firstHour: '2026-01-01T05', lastHour: '2026-03-01T10' });
    expect(unit).toBe('day');
    expect(buckets).toHaveLength(31 + 28 + 1);
    expect(buckets[0]).toEqual({ hour: '2026-01-01T00', events: 3 });
    expect(buckets.at(-1)).toEqual({ hour: '2026-03-01T00', events: 4 });
    expect(buckets.reduce((n, b) => n + b.events, 0)).toBe(7);
  });

  it('keeps only days with data across a decade-wide gap (an old archive next to live data)', () => {
    const perHour = [{ hour: '2015-03-08T14', events: 758 }, { hour: '2026-11-28T06', events: 10 }];
    const { unit, buckets } = activity(perHour, { firstHour: '2015-03-08T14', lastHour: '2026-11-28T06' });
    expect(unit).toBe('day');
    expect(buckets).toEqual([{ hour: '2015-03-08T00', events: 758 }, { hour: '2026-11-28T00', events: 10 }]);
  });
});
