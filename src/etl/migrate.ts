import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CURATED, type HourId } from '../lake/layout.ts';
import { listAll, type ObjectStore } from '../lake/store.ts';
import { copyTableFile, openDuck, quoteIdent, sqlList, sqlString } from './duck.ts';
import { commitSegments, publishSegmentFile, unitOf, type HourEntry, type SegmentFile } from './segments.ts';
import { readEtlState, writeHourStates } from './state.ts';
import { CURATED_TABLES, TABLES, type CuratedTable } from './tables.ts';

/**
 * Moves curated tables written by earlier versions — one hive partition per table and hour,
 * `curated/<table>/arrival_hour=<hour>/*.parquet` — into segments (one per unit, like a backfill
 * writes them), commits them, then deletes the old partitions; per-hour ETL state records are
 * folded into month documents. Returns the number of hours moved (0: nothing to do). A crash
 * midway leaves the old partitions in place and the move is simply done again.
 */
export async function migrateLegacyLayout(store: ObjectStore, options: { scratch: string; nowMs: number; graceMs: number }): Promise<number> {
  const legacy = new Map<CuratedTable, Map<HourId, string[]>>();
  const keys: string[] = [];
  for (const table of CURATED_TABLES) {
    for (const info of await listAll(store, `${CURATED}/${table}/arrival_hour=`)) {
      const m = /\/arrival_hour=(\d{4}-\d{2}-\d{2}T\d{2})\/[^/]+\.parquet$/.exec(info.key);
      if (!m) continue;
      keys.push(info.key);
      const byHour = legacy.get(table) ?? new Map<HourId, string[]>();
      byHour.set(m[1] as HourId, [...(byHour.get(m[1] as HourId) ?? []), info.key]);
      legacy.set(table, byHour);
    }
  }
  if (keys.length === 0) return 0;
  const hours = [...new Set([...legacy.values()].flatMap((m) => [...m.keys()]))].sort();
  const dir = path.join(options.scratch, 'migrate');
  await fs.mkdir(path.join(dir, 'tmp'), { recursive: true });
  const local = async (key: string): Promise<string> => {
    const file = store.localPath(key);
    if (file) return file;
    const copy = path.join(dir, 'in', ...key.split('/'));
    await fs.mkdir(path.dirname(copy), { recursive: true });
    await fs.writeFile(copy, (await store.get(key)) ?? new Uint8Array());
    return copy;
  };
  const duck = await openDuck({ tempDir: path.join(dir, 'tmp') });
  try {
    const read = async (table: CuratedTable, unitHours: HourId[]): Promise<string | undefined> => {
      const files = await Promise.all(unitHours.flatMap((h) => legacy.get(table)?.get(h) ?? []).map(local));
      if (files.length === 0) return undefined;
      const key = TABLES[table].key.filter((k) => k !== 'arrival_hour').map(quoteIdent);
      // A partition written by hand might repeat a key within its hour: keep one row, as the old reader did.
      const dedupe = key.length > 0 ? ` QUALIFY row_number() OVER (PARTITION BY arrival_hour, ${key.join(', ')} ORDER BY filename DESC, file_row_number DESC) = 1` : '';
      return `SELECT * FROM read_parquet([${files.map(sqlString).join(', ')}], hive_partitioning = true, hive_types = {'arrival_hour': VARCHAR}, union_by_name = true, filename = true, file_row_number = true)${dedupe}`;
    };
    const byUnit = new Map<string, HourId[]>();
    for (const h of hours) {
      const unit = unitOf(h, options.nowMs, options.graceMs).unit;
      byUnit.set(unit, [...(byUnit.get(unit) ?? []), h]);
    }
    for (const unitHours of byUnit.values()) {
      const records = new Map<HourId, number>();
      const hoursSql = await read('hours', unitHours);
      if (hoursSql) {
        const rows = await duck.connection.runAndReadAll(`SELECT arrival_hour, CAST(raw_records AS DOUBLE) AS n FROM (${hoursSql}) WHERE arrival_hour IN ${sqlList(unitHours)}`);
        for (const r of rows.getRowObjectsJson()) records.set(String(r.arrival_hour), Number(r.n));
      }
      const files: Partial<Record<CuratedTable, SegmentFile>> = {};
      for (const table of CURATED_TABLES) {
        const from = await read(table, unitHours);
        if (!from) continue;
        const out = path.join(dir, `${table}.parquet`);
        const rows = await copyTableFile(duck.connection, table, from, out);
        if (rows > 0) files[table] = await publishSegmentFile(store, table, unitHours, out, rows);
      }
      await commitSegments(store, { add: [{ hours: Object.fromEntries(unitHours.map((h) => [h, [0, records.get(h) ?? 0] as HourEntry])), files }] });
    }
  } finally {
    duck.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
  for (const key of keys) await store.delete(key);
  // A local lake keeps the emptied partition folders otherwise.
  for (const folder of new Set(keys.map((k) => store.localPath(k.slice(0, k.lastIndexOf('/')))))) if (folder) await fs.rmdir(folder).catch(() => undefined);
  // Per-hour state records of earlier versions become month documents.
  await writeHourStates(store, (await readEtlState(store)).hours);
  return hours.length;
}
