import type { ObjectStore } from '../lake/store.ts';
import { UserError } from '../errors.ts';
import { openCurated, type OpenCuratedOptions } from './curated.ts';
import { escapeTerminal } from '../text.ts';

/** A query's result: column names and rows of plain JSON values (BIGINT → number when exact, timestamps → ISO). */
export interface QueryResult {
  columns: string[];
  rows: unknown[][];
}

/** Runs ad hoc SQL over the curated views of a lake. SQL errors are the user's to fix. */
export async function runQuery(store: ObjectStore, sql: string, options: OpenCuratedOptions = {}): Promise<QueryResult> {
  const connection = await openCurated(store, options);
  try {
    const reader = await connection.runAndReadAll(sql).catch((error: unknown) => {
      throw new UserError(`query failed: ${error instanceof Error ? error.message : String(error)}`, {
        hint: 'tables: categories, groups, venues, events, event_changes, fees, quarantine, hours (see docs/tables.md)',
        cause: error,
      });
    });
    return { columns: reader.columnNames(), rows: reader.getRowsJS().map((row) => row.map(plain)) };
  } finally {
    connection.closeSync();
  }
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
