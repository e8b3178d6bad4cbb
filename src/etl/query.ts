import { StatementType, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import type { ObjectStore } from '../lake/store.ts';
import { UserError, errorMessage } from '../errors.ts';
import { openCurated, type OpenCuratedOptions } from './curated.ts';
import { escapeTerminal } from '../text.ts';

/** A query's result: column names and rows of plain JSON values (BIGINT → number when exact, timestamps → ISO). */
export interface QueryResult {
  columns: string[];
  rows: unknown[][];
}

const TABLES_HINT = 'tables: categories, groups, venues, events, event_changes, fees, quarantine, hours (see docs/tables.md)';
const READ_ONLY_HINT = `query only reads: SELECT (WITH, FROM …, VALUES), DESCRIBE, SHOW, SUMMARIZE, EXPLAIN, PRAGMA show_tables; ${TABLES_HINT}`;

/**
 * Runs ad hoc SQL over the curated views of a lake, on a sandboxed connection (see lockDown):
 * only reading statements run, and nothing outside the curated tables can be read or written.
 * Several statements run in order and the last one's rows are returned. A refused statement
 * is a one-line UserError saying why; other SQL errors are the user's to fix too.
 */
export async function runQuery(store: ObjectStore, sql: string, options: OpenCuratedOptions = {}): Promise<QueryResult> {
  const connection = await openCurated(store, options);
  let result: QueryResult = { columns: [], rows: [] };
  let failure: unknown;
  try {
    await lockDown(connection);
    for (const statement of await prepareReading(connection, sql)) {
      const reader = await statement.runAndReadAll().catch((error: unknown) => {
        throw queryError(error);
      });
      result = { columns: reader.columnNames(), rows: reader.getRowsJS().map((row) => row.map(plain)) };
    }
  } catch (error) {
    failure = error;
  }
  // A SELECT can switch DuckDB's logging to a file (enable_logging(storage := 'file')); file access
  // is off, so nothing is written, but the connection then fails every statement and DuckDB
  // aborts the process when it is closed. Such a connection is kept open, never closed.
  if (await connection.run('SELECT 1').then(() => true, () => false)) connection.closeSync();
  else {
    unusable.push(connection);
    failure ??= new UserError(`query refused: it switched DuckDB's logging to a file, and file access is off (nothing was written)`, { hint: READ_ONLY_HINT });
  }
  if (failure !== undefined) throw failure;
  return result;
}

/** Connections a query left unusable (see runQuery), referenced so they are never finalised. */
const unusable: DuckDBConnection[] = [];

/**
 * Closes a connection around what it has already opened, with DuckDB's own switches: no file
 * or network access (`enable_external_access = false`: no COPY to files, no ATTACH of a file, no
 * read_csv/read_text/glob of paths, no http), no extension installed or loaded behind the
 * query's back, and the configuration locked so no SET can undo any of it. Databases attached
 * and views created before the call keep working: the curated snapshot is attached read-only by
 * openCurated first. `readable` lists files the views must still open lazily (allowed_paths: exact
 * files only — an allowed *directory* would let a SELECT write into it, e.g. enable_logging's file
 * storage).
 */
export async function lockDown(connection: DuckDBConnection, readable: readonly string[] = []): Promise<void> {
  const list = (paths: readonly string[]): string => `[${paths.map((p) => `'${p.replaceAll("'", "''")}'`).join(', ')}]`;
  if (readable.length > 0) await connection.run(`SET allowed_paths = ${list(readable)}`);
  for (const setting of [
    'enable_external_access = false',
    'autoinstall_known_extensions = false',
    'autoload_known_extensions = false',
    'allow_community_extensions = false',
    'lock_configuration = true',
  ]) {
    await connection.run(`SET ${setting}`);
  }
}

/**
 * Prepares every statement of `sql` and refuses the lot unless each one reads: DuckDB's parser
 * and binder decide what a statement is (PRAGMA show_tables, DESCRIBE and SHOW bind as SELECT),
 * not a pattern over the text. Nothing runs before every statement has passed.
 */
async function prepareReading(connection: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement[]> {
  const extracted = await connection.extractStatements(sql).catch((error: unknown) => {
    throw queryError(error);
  });
  if (extracted.count === 0) throw new UserError('query failed: no SQL statement given', { hint: TABLES_HINT });
  const statements: DuckDBPreparedStatement[] = [];
  for (let i = 0; i < extracted.count; i++) {
    const statement = await extracted.prepare(i).catch((error: unknown) => {
      throw queryError(error);
    });
    const refused = refusedType(statement.statementType);
    if (refused) throw new UserError(`query refused: ${refused}`, { hint: READ_ONLY_HINT });
    statements.push(statement);
  }
  return statements;
}

/** Why a statement of this type is refused, or undefined when it only reads. */
function refusedType(type: StatementType): string | undefined {
  switch (type) {
    case StatementType.SELECT:
    case StatementType.EXPLAIN:
      return undefined;
    case StatementType.COPY:
    case StatementType.COPY_DATABASE:
      return 'COPY reads and writes files; the lake is read-only here';
    case StatementType.EXPORT:
      return 'EXPORT DATABASE writes files; the lake is read-only here';
    case StatementType.ATTACH:
    case StatementType.DETACH:
      return 'ATTACH and DETACH open and close databases; only the curated tables are open here';
    case StatementType.LOAD:
    case StatementType.EXTENSION:
    case StatementType.UPDATE_EXTENSIONS:
      return 'INSTALL and LOAD add extensions; none can be added here';
    case StatementType.SET:
    case StatementType.VARIABLE_SET:
      return 'SET and RESET change settings; they are locked here';
    case StatementType.PRAGMA:
      return 'this PRAGMA changes settings; they are locked here';
    case StatementType.CALL:
      return 'CALL runs a procedure that may change state; use SELECT * FROM <function>(…) for reading ones';
    default:
      return `${StatementType[type] ?? 'this'} statements change the database; the curated tables are read-only here`;
  }
}

/** A DuckDB error as a one-line UserError: refusals by the sandbox say so; other SQL errors keep DuckDB's text. */
function queryError(error: unknown): UserError {
  const message = errorMessage(error);
  const first = message.split('\n')[0] ?? message;
  const access = /^Permission Error: Cannot access (?:file|directory) "(.*)" - file system operations are disabled by configuration/.exec(first);
  let refused: string | undefined;
  if (access) refused = `it opens "${access[1]}"; query has no file or network access (it reads the curated views only)`;
  else if (/^(Permission Error|Extension Autoloading Error|Missing Extension Error)/.test(first)) refused = `it needs what is switched off here (${first})`;
  else if (/the configuration has been locked/.test(first)) refused = 'settings are locked here';
  if (refused) return new UserError(`query refused: ${oneLine(refused)}`, { hint: READ_ONLY_HINT, cause: error });
  return new UserError(`query failed: ${message}`, { hint: TABLES_HINT, cause: error });
}

/** Stream- or user-supplied text for a one-line message: control characters escaped. */
function oneLine(text: string): string {
  return escapeTerminal(text.replace(/\s*\n\s*/g, ' '));
}

/** A DuckDB JS value as plain JSON. */
export function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString().replace(/\.000Z$/, 'Z');
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}


function cellText(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** An aligned text table (numbers right-aligned), cells escaped and cut at `maxWidth`. */
export function formatTable(result: QueryResult, maxWidth = 60): string {
  const cut = (s: string): string => (s.length > maxWidth ? s.slice(0, maxWidth - 1) + '…' : s);
  const header = result.columns.map((c) => cut(escapeTerminal(c)));
  const cells = result.rows.map((row) => row.map((v) => cut(escapeTerminal(cellText(v)))));
  const numeric = result.columns.map((_, i) => result.rows.length > 0 && result.rows.every((r) => r[i] === null || typeof r[i] === 'number'));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (parts: string[]): string =>
    parts
      .map((p, i) => (numeric[i] ? p.padStart(widths[i] ?? 0) : p.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
  out.push(`(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`);
  return out.join('\n');
}

/** RFC 4180 CSV (fields with comma, quote or line breaks are quoted); NULL is an empty field. */
export function formatCsv(result: QueryResult): string {
  const field = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [result.columns, ...result.rows].map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}

/** Rows as JSON objects keyed by column name. */
export function toObjects(result: QueryResult): Array<Record<string, unknown>> {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i] ?? null])));
}
