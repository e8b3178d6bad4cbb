import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCurated, queryRows } from '../../src/etl/curated.ts';
import { runEtl } from '../../src/etl/run.ts';
import type { DuckDBConnection } from '@duckdb/node-api';
import { tempLake } from '../helpers/etl-lake.ts';
import { EDGE_TEXT, H1, H2, writeEdgeLake } from '../helpers/etl-fixtures.ts';

describe('normalisation and quarantine (DuckDB engine)', () => {
  let lake: Awaited<ReturnType<typeof tempLake>>;
  let db: DuckDBConnection;
  const one = async (sql: string): Promise<Record<string, unknown>> => (await queryRows(db, sql))[0] ?? {};

  beforeAll(async () => {
    // Given a lake of edge cases over two hours
    lake = await tempLake();
    await writeEdgeLake(lake.store);
    // When the ETL processes every hour
    const result = await runEtl(lake.store, { select: { all: true } });
    expect(result.failed).toEqual([]);
    db = await openCurated(lake.store);
  });
  afterAll(async () => {
    db?.closeSync();
    await lake.cleanup();
  });

  it('turns numbers that arrive as strings into numbers, and out-of-range ones into NULL', async () => {
    const e2 = await one(`SELECT * FROM event_changes WHERE event_id = 'e2' AND mtime = 2000`);
    expect(e2).toMatchObject({ rsvp_limit: 10, yes_rsvp_count: 3, maybe_rsvp_count: null });
  });

  it('keeps the newest mtime per event, whatever the arrival order', async () => {
    const rows = await queryRows(db, `SELECT event_id, status, mtime::VARCHAR AS mtime, arrival_hour FROM events ORDER BY event_id`);
    expect(rows).toEqual([
      { event_id: 'e1', status: 'canceled', mtime: '1500', arrival_hour: H2 },
      { event_id: 'e2', status: 'upcoming', mtime: '2000', arrival_hour: H1 },
      { event_id: 'e3', status: 'upcoming', mtime: '3000', arrival_hour: H1 },
      { event_id: 'e6', status: 'upcoming', mtime: '6000', arrival_hour: H1 },
      { event_id: 'e7', status: 'upcoming', mtime: '7000', arrival_hour: H2 },
    ]);
  });

  it('types the current version of a messy record', async () => {
    const e2 = await one(`SELECT name, duration_ms::VARCHAR AS d, payment_required AS p, utc_offset_ms::VARCHAR AS o,
      time_utc::VARCHAR AS tu, time_local::VARCHAR AS tl FROM events WHERE event_id = 'e2'`);
    // No duration in the record means the stream's default of three hours.
    expect(e2).toEqual({ name: 'Spaced   name', d: '10800000', p: true, o: '-25200000', tu: '2015-03-14 21:00:00', tl: '2015-03-14 14:00:00' });
    const g = await one(`SELECT g.country, g.lat, g.lon, g.category_id FROM events e JOIN groups g USING (group_id) WHERE e.event_id = 'e2'`);
    // e2's group (id given as the string "999") has country "GB ", coordinates as a string and an int, no category.
    expect(g).toEqual({ country: 'gb', lat: 51, lon: 0, category_id: null });
  });

  it('strips HTML and decodes named and numeric entities beside the original', async () => {
    const e1 = await queryRows(db, `SELECT description_text FROM events WHERE event_id = 'e1'`);
    expect(e1[0]?.description_text).toBe('Salsa & bachata');
    const edge = await one(`SELECT description_text, description_html FROM (
      SELECT * FROM read_parquet('${lake.dir}/curated/events/*.parquet')) WHERE event_id = 'e1' AND mtime = 1000`);
    expect(edge.description_text).toBe(EDGE_TEXT);
    expect(String(edge.description_html)).toContain('&#x263A;');
    const none = await one(`SELECT description_html, description_text, venue_key, time_utc FROM events WHERE event_id = 'e3'`);
    expect(none).toEqual({ description_html: null, description_text: null, venue_key: null, time_utc: null });
  });

  it('derives one venue key for the same venue written differently', async () => {
    const keys = await queryRows(db, `SELECT DISTINCT venue_key FROM (SELECT * FROM read_parquet('${lake.dir}/curated/venues/*.parquet'))`);
    // e1 ("Lineage Performing Arts Center", "Pasadena", "US", 34.144001) and e2's spelling of it
    // (other case and spaces, " us ", coordinates as strings equal to 4 decimals) are one venue.
    expect(keys).toHaveLength(1);
    const v = await one(`SELECT name, country, city FROM venues`);
    expect(v).toEqual({ name: 'Lineage Performing Arts Center', country: 'us', city: 'Pasadena' });
  });

  it('keeps the fee of the current version only', async () => {
    // e2's fee belongs to its 2000 version, which is current; e1 never had one.
    expect(await queryRows(db, `SELECT event_id, amount, currency, description FROM fees`)).toEqual([
      { event_id: 'e2', amount: 12.5, currency: 'USD', description: 'per person' },
    ]);
  });

  it('quarantines what cannot be placed, with the reason and the raw bytes', async () => {
    const rows = await queryRows(db, `SELECT arrival_hour, source_key, line_no::INTEGER AS line_no, reason, left(raw, 20) AS raw FROM quarantine ORDER BY ALL`);
    expect(rows.map((r) => [r.arrival_hour, String(r.source_key).split('/').pop(), r.line_no, r.reason])).toEqual([
      [H1, 'capture-1-3.ndjson', 1, 'invalid_json'],
      [H1, 'capture-1-3.ndjson', 2, 'invalid_json'],
      [H1, 'w1-1-9.ndjson.gz', 5, 'missing_group'],
      [H1, 'w1-1-9.ndjson.gz', 6, 'missing_id'],
      [H1, 'w1-1-9.ndjson.gz', 7, 'missing_id'],
      [H1, 'w1-1-9.ndjson.gz', 8, 'missing_mtime'],
      [H1, 'w1-1-9.ndjson.gz', 9, 'invalid_json'],
      [H2, 'firehose-1', 4, 'invalid_json'],
    ]);
    expect(rows[7]?.raw).toBe('{"id":"e8","mti');
    const hours = await queryRows(db, `SELECT arrival_hour, raw_records::INTEGER AS r, valid_records::INTEGER AS v, quarantined::INTEGER AS q FROM hours ORDER BY 1`);
    // Hour 1: 9 lines in the gzip object + 3 non-blank lines in the capture; hour 2: 4 Firehose pieces (files starting with _ or . skipped).
    expect(hours).toEqual([
      { arrival_hour: H1, r: 12, v: 5, q: 7 },
      { arrival_hour: H2, r: 4, v: 3, q: 1 },
    ]);
  });
});
