import { LocalStore } from '../../src/lake/local-store.ts';
import { openCurated, quoteIdent, type OpenCuratedOptions } from '../../src/etl/curated.ts';
import type { ObjectStore } from '../../src/lake/store.ts';
import { CURATED_TABLES, TABLES, type CuratedTable } from '../../src/etl/tables.ts';

/** Columns that record when a run happened, not what it produced. */
const RUN_COLUMNS = new Set(['processed_at']);

/**
 * Every curated table of a lake (a folder, or any store) as canonical text: rows as JSON in a fixed column order, sorted
 * by all columns; `processed_at` left out. Doubles are printed with 12 significant digits so two
 * engines' last-bit differences (if any) do not count.
 */
export async function dumpTables(lake: string | ObjectStore, tables: readonly CuratedTable[] = CURATED_TABLES, options: OpenCuratedOptions = {}): Promise<Record<string, string[]>> {
  const connection = await openCurated(typeof lake === 'string' ? new LocalStore(lake) : lake, options);
  try {
    const out: Record<string, string[]> = {};
    for (const table of tables) {
      const cols = Object.entries(TABLES[table].columns).filter(([c]) => !RUN_COLUMNS.has(c));
      const select = cols
        .map(([c, t]) => (t === 'DOUBLE' ? `CASE WHEN ${quoteIdent(c)} IS NULL THEN NULL ELSE printf('%.12g', ${quoteIdent(c)}) END` : `CAST(${quoteIdent(c)} AS VARCHAR)`) + ` AS ${quoteIdent(c)}`)
        .join(', ');
      const reader = await connection.runAndReadAll(`SELECT ${select} FROM ${table} ORDER BY ALL`);
      out[table] = reader.getRowsJson().map((r) => JSON.stringify(r));
    }
    return out;
  } finally {
    connection.closeSync();
  }
}
