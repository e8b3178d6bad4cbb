import { existsSync } from 'node:fs';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { errorMessage } from '../errors.ts';
import type { ObjectStore } from '../lake/store.ts';
import { sortColumns } from './engine.ts';
import { damagedFile, missingFile } from './segments.ts';
import { TABLES, type CuratedTable } from './tables.ts';

/** DuckDB helpers shared by the DuckDB engine, compaction and the snapshot. */

/** DuckDB's memory limit for one ETL pass, compaction or snapshot update (it spills beyond it). */
export const DUCKDB_MEMORY_LIMIT = '1GB';

export interface Duck {
  connection: DuckDBConnection;
  close(): void;
}

/** A DuckDB database (in memory unless `file`), spilling to `tempDir` beyond the memory limit. */
export async function openDuck(options: { file?: string; tempDir?: string } = {}): Promise<Duck> {
  const instance = await DuckDBInstance.create(options.file ?? ':memory:', {
    memory_limit: DUCKDB_MEMORY_LIMIT,
    preserve_insertion_order: 'false',
    ...(options.tempDir ? { temp_directory: options.tempDir } : {}),
  });
  const connection = await instance.connect();
  return {
    connection,
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** The table's columns in contract order, each cast to its contract type (an engine writing INT for BIGINT cannot change a type). */
export function typedColumns(table: CuratedTable, alias = ''): string {
  return Object.entries(TABLES[table].columns)
    .map(([c, t]) => `CAST(${alias}${quoteIdent(c)} AS ${t}) AS ${quoteIdent(c)}`)
    .join(', ');
}

/**
 * Writes the rows of `fromSql` (a relation with the table's columns) as one Parquet file, typed
 * and sorted by hour and key — a total order, so the same rows always give the same bytes.
 * Returns the number of rows.
 */
export async function copyTableFile(connection: DuckDBConnection, table: CuratedTable, fromSql: string, file: string): Promise<number> {
  const order = sortColumns(TABLES[table].key).map(quoteIdent).join(', ');
  const result = await connection.run(`COPY (SELECT ${typedColumns(table)} FROM (${fromSql}) ORDER BY ${order}) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd)`);
  return Number(result.rowsChanged);
}

/** A SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A quoted SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A SQL list literal of strings, for IN (...). */
export function sqlList(values: readonly string[]): string {
  return values.length === 0 ? '(NULL)' : `(${values.map(sqlString).join(', ')})`;
}

/** A segment file being read: its key, local path and the hours it holds (for the remedy). */
export interface ReadFile {
  key: string;
  path: string;
  hours: readonly string[];
}

/**
 * Runs a statement that reads curated files; when it fails because a file is damaged (DuckDB then
 * says "TProtocolException: Invalid data" without naming it), throws a UserError naming the file,
 * the reason and the remedy instead.
 */
export async function readingFiles<T>(connection: DuckDBConnection, store: ObjectStore, files: readonly ReadFile[], run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    for (const f of files) if (!existsSync(f.path)) throw missingFile(store, f.key);
    for (const f of files) {
      const broken = await connection.run(`SELECT count(*) FROM parquet_metadata(${sqlString(f.path)})`).then(
        () => undefined,
        (e: unknown) => errorMessage(e),
      );
      if (broken !== undefined) throw damagedFile(store, f.key, f.hours, broken.replace(/^Invalid (Input )?Error: /, ''));
    }
    throw error;
  }
}
