import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * The one definition of the ETL's transformation is the SQL under src/etl/sql/. Both engines run
 * it through this small dialect layer (spark/jobs/sqlgen.py is its line-for-line Python twin; a
 * test asserts both expand every file identically):
 *   - `${name}` parameters are replaced by SQL string literals;
 *   - `@macro(arg, ...)` calls are expanded innermost-first. Shared macros (macros.json) are SQL
 *     written with the primitives below; primitives are the handful of functions whose spelling
 *     differs between DuckDB and Spark SQL (JSON extraction, regexes, lists/lambdas, timestamps).
 */
export type Dialect = 'duckdb' | 'spark';

export const SQL_DIR = path.join(import.meta.dirname, 'sql');

type Primitive = (args: string[]) => string;

/** The whitespace trimmed from strings: space, tab, LF, FF, CR. */
const WS_CHARS = `(' ' || chr(9) || chr(10) || chr(12) || chr(13))`;

const PRIMITIVES: Record<Dialect, Record<string, Primitive>> = {
  duckdb: {
    trim_ws: ([s]) => `trim(${s}, ${WS_CHARS})`,
    json_valid: ([s]) => `json_valid(${s})`,
    json_strings: ([doc, ...paths]) => `json_extract_string(${doc}, [${paths.join(', ')}])`,
    at: ([list, n]) => `(${list})[${n}]`,
    re_replace: ([s, pat, rep]) => `regexp_replace(${s}, ${pat}, ${rep}, 'g')`,
    re_match: ([s, pat]) => `regexp_matches(${s}, ${pat})`,
    re_extract: ([s, pat, group]) => `regexp_extract(${s}, ${pat}, ${group})`,
    ts_from_ms: ([ms]) => `make_timestamp(CAST(${ms} AS BIGINT) * 1000)`,
    ts_literal: ([s]) => `CAST(${s} AS TIMESTAMP)`,
    chr: ([n]) => `chr(CAST(${n} AS INTEGER))`,
    hex_to_int: ([h]) => `CAST(('0x' || ${h}) AS BIGINT)`,
    split: ([s, sep]) => `string_split(${s}, ${sep})`,
    list_map: ([list, v, expr]) => `list_transform(${list}, lambda ${v}: ${expr})`,
    list_tail: ([list]) => `(${list})[2:]`,
    list_join: ([list]) => `array_to_string(${list}, '')`,
  },
  spark: {
    trim_ws: ([s]) => `btrim(${s}, ${WS_CHARS})`,
    json_valid: ([s]) => `(get_json_object(${s}, '$') IS NOT NULL)`,
    json_strings: ([doc, ...paths]) => `array(${paths.map((p) => `get_json_object(${doc}, ${p})`).join(', ')})`,
    at: ([list, n]) => `element_at(${list}, ${n})`,
    re_replace: ([s, pat, rep]) => `regexp_replace(${s}, ${pat}, ${rep})`,
    re_match: ([s, pat]) => `(${s} RLIKE ${pat})`,
    re_extract: ([s, pat, group]) => `regexp_extract(${s}, ${pat}, ${group})`,
    ts_from_ms: ([ms]) => `CAST(timestamp_millis(CAST(${ms} AS BIGINT)) AS TIMESTAMP_NTZ)`,
    ts_literal: ([s]) => `CAST(${s} AS TIMESTAMP_NTZ)`,
    chr: ([n]) => `decode(unhex(lpad(hex(CAST(${n} AS BIGINT)), 8, '0')), 'UTF-32')`,
    hex_to_int: ([h]) => `CAST(conv(${h}, 16, 10) AS BIGINT)`,
    split: ([s, sep]) => `split(${s}, ${sep})`,
    list_map: ([list, v, expr]) => `transform(${list}, ${v} -> ${expr})`,
    list_tail: ([list]) => `slice(${list}, 2, greatest(size(${list}) - 1, 0))`,
    list_join: ([list]) => `array_join(${list}, '')`,
  },
};

interface SharedMacro {
  params: string[];
  body: string;
}

let shared: Record<string, SharedMacro> | undefined;
function sharedMacros(): Record<string, SharedMacro> {
  shared ??= JSON.parse(readFileSync(path.join(SQL_DIR, 'macros.json'), 'utf8')) as Record<string, SharedMacro>;
  return shared;
}

/** Expands parameters and macros of one SQL text for an engine. */
export function expandSql(sql: string, dialect: Dialect, params: Record<string, string> = {}): string {
  const withParams = sql.replace(/\$\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`SQL parameter \${${name}} has no value`);
    return `'${value.replaceAll("'", "''")}'`;
  });
  return expandMacros(stripComments(withParams), dialect);
}

/** Removes `-- ...` comments outside string literals (Spark and DuckDB differ on a few comment forms). */
function stripComments(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'") {
      const end = stringEnd(sql, i);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Index just past the single-quoted literal starting at `start` ('' is an escaped quote). */
function stringEnd(sql: string, start: number): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === "'") {
      if (sql[i + 1] === "'") i += 2;
      else return i + 1;
    } else i++;
  }
  throw new Error(`unterminated string literal at ${start}`);
}

function expandMacros(sql: string, dialect: Dialect): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (c === "'") {
      const end = stringEnd(sql, i);
      out += sql.slice(i, end);
      i = end;
      continue;
    }
    const m = c === '@' ? /^@([a-z_][a-z0-9_]*)\(/.exec(sql.slice(i, i + 64)) : null;
    if (!m) {
      out += c;
      i++;
      continue;
    }
    const name = m[1] as string;
    const { args, end } = parseArgs(sql, i + m[0].length);
    out += applyMacro(name, args.map((a) => expandMacros(a, dialect)), dialect);
    i = end;
  }
  return out;
}

/** Splits a call's arguments at top-level commas; `start` is just past '('. */
function parseArgs(sql: string, start: number): { args: string[]; end: number } {
  const args: string[] = [];
  let depth = 0;
  let current = '';
  let i = start;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (c === "'") {
      const end = stringEnd(sql, i);
      current += sql.slice(i, end);
      i = end;
      continue;
    }
    if (c === '(' || c === '[') depth++;
    if (c === ')' || c === ']') {
      if (depth === 0) {
        args.push(current.trim());
        return { args, end: i + 1 };
      }
      depth--;
    }
    if (c === ',' && depth === 0) {
      args.push(current.trim());
      current = '';
    } else current += c;
    i++;
  }
  throw new Error(`unbalanced macro call at ${start}`);
}

function applyMacro(name: string, args: string[], dialect: Dialect): string {
  const primitive = PRIMITIVES[dialect][name];
  if (primitive) return primitive(args);
  const macro = sharedMacros()[name];
  if (!macro) throw new Error(`unknown SQL macro @${name}`);
  if (macro.params.length !== args.length) throw new Error(`@${name} takes ${macro.params.length} arguments, got ${args.length}`);
  // One pass over the body, so an argument's own text is never substituted again.
  const body = macro.body.replace(/\$(\d+)/g, (_, n: string) => `(${args[Number(n) - 1]})`);
  return expandMacros(body, dialect);
}

/** One step of the transformation: a SQL file whose result is a named relation. */
export interface SqlStep {
  /** The relation's name: an intermediate (materialised as a temporary table) or a curated table. */
  name: string;
  /** True for the curated tables written to the lake. */
  output: boolean;
  sql: string;
}

/**
 * The transformation's steps in order, expanded for an engine. Files are `NN_<name>.sql`;
 * names starting with '_' are intermediates, the rest are curated tables.
 */
export function loadSteps(dialect: Dialect, params: Record<string, string>, dir = SQL_DIR): SqlStep[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_\w+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const name = file.replace(/^\d+_/, '').replace(/\.sql$/, '');
      const text = readFileSync(path.join(dir, file), 'utf8');
      return { name: name.replace(/^_/, ''), output: !name.startsWith('_'), sql: expandSql(text, dialect, params) };
    });
}
