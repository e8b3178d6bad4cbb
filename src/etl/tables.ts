/**
 * The curated tables' contract: names, columns, Parquet/DuckDB types and keys. Other stages code
 * against these names (see docs/tables.md). Every table is stored as segments of per-hour rows
 * (`arrival_hour` is a column; segments.ts); the current-state tables (`current: true`) are read
 * through a snapshot that keeps the newest `mtime` per key (curated.ts).
 */
export interface TableDef {
  name: CuratedTable;
  /** Column name → SQL type, in output order. */
  columns: Record<string, string>;
  /** The primary key of the table as queried (after the current-state view). */
  key: string[];
  /** True when the table keeps one row per key, the newest by (mtime, arrival_hour). */
  current: boolean;
}

export const CURATED_TABLES = [
  'categories',
  'groups',
  'venues',
  'events',
  'event_changes',
  'fees',
  'quarantine',
  'hours',
] as const;
export type CuratedTable = (typeof CURATED_TABLES)[number];

/** Table definitions, in dependency order. Every table has `arrival_hour`, the hour its row came from. */
export const TABLES: Record<CuratedTable, TableDef> = {
  categories: {
    name: 'categories',
    columns: { category_id: 'INTEGER', name: 'VARCHAR', shortname: 'VARCHAR', mtime: 'BIGINT', arrival_hour: 'VARCHAR' },
    key: ['category_id'],
    current: true,
  },
  groups: {
    name: 'groups',
    columns: {
      group_id: 'BIGINT',
      name: 'VARCHAR',
      urlname: 'VARCHAR',
      join_mode: 'VARCHAR',
      city: 'VARCHAR',
      state: 'VARCHAR',
      country: 'VARCHAR',
      lat: 'DOUBLE',
      lon: 'DOUBLE',
      category_id: 'INTEGER',
      photo_link: 'VARCHAR',
      mtime: 'BIGINT',
      arrival_hour: 'VARCHAR',
    },
    key: ['group_id'],
    current: true,
  },
  venues: {
    name: 'venues',
    columns: {
      venue_key: 'VARCHAR',
      name: 'VARCHAR',
      address_1: 'VARCHAR',
      address_2: 'VARCHAR',
      city: 'VARCHAR',
      state: 'VARCHAR',
      zip: 'VARCHAR',
      country: 'VARCHAR',
      lat: 'DOUBLE',
      lon: 'DOUBLE',
      phone: 'VARCHAR',
      mtime: 'BIGINT',
      arrival_hour: 'VARCHAR',
    },
    key: ['venue_key'],
    current: true,
  },
  events: {
    name: 'events',
    columns: {
      event_id: 'VARCHAR',
      name: 'VARCHAR',
      event_url: 'VARCHAR',
      status: 'VARCHAR',
      visibility: 'VARCHAR',
      venue_visibility: 'VARCHAR',
      time_utc: 'TIMESTAMP',
      time_local: 'TIMESTAMP',
      utc_offset_ms: 'BIGINT',
      duration_ms: 'BIGINT',
      rsvp_limit: 'INTEGER',
      yes_rsvp_count: 'INTEGER',
      maybe_rsvp_count: 'INTEGER',
      payment_required: 'BOOLEAN',
      description_html: 'VARCHAR',
      description_text: 'VARCHAR',
      group_id: 'BIGINT',
      venue_key: 'VARCHAR',
      mtime: 'BIGINT',
      arrival_hour: 'VARCHAR',
    },
    key: ['event_id'],
    current: true,
  },
  event_changes: {
    name: 'event_changes',
    columns: {
      event_id: 'VARCHAR',
      mtime: 'BIGINT',
      status: 'VARCHAR',
      yes_rsvp_count: 'INTEGER',
      maybe_rsvp_count: 'INTEGER',
      rsvp_limit: 'INTEGER',
      arrival_hour: 'VARCHAR',
    },
    key: ['event_id', 'mtime'],
    current: true,
  },
  fees: {
    name: 'fees',
    columns: {
      event_id: 'VARCHAR',
      amount: 'DOUBLE',
      currency: 'VARCHAR',
      description: 'VARCHAR',
      mtime: 'BIGINT',
      arrival_hour: 'VARCHAR',
    },
    key: ['event_id'],
    current: true,
  },
  quarantine: {
    name: 'quarantine',
    columns: { source_key: 'VARCHAR', line_no: 'BIGINT', reason: 'VARCHAR', raw: 'VARCHAR', arrival_hour: 'VARCHAR' },
    key: ['arrival_hour', 'source_key', 'line_no'],
    current: false,
  },
  hours: {
    name: 'hours',
    columns: {
      raw_records: 'BIGINT',
      valid_records: 'BIGINT',
      quarantined: 'BIGINT',
      processed_at: 'TIMESTAMP',
      arrival_hour: 'VARCHAR',
    },
    key: ['arrival_hour'],
    current: false,
  },
};

/** Quarantine reasons, in the order they are checked. */
export const QUARANTINE_REASONS = ['invalid_json', 'missing_id', 'missing_mtime', 'missing_group'] as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];
