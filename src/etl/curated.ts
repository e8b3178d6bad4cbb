import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { errorMessage, isErrnoCode } from '../errors.ts';
import { CURATED } from '../lake/layout.ts';
import { lakeCacheDir, localFiles, pruneCachedFiles } from '../lake/object-cache.ts';
import { listAll, type ObjectStore } from '../lake/store.ts';
import { CURATED_TABLES, TABLES, type CuratedTable } from './tables.ts';

export interface OpenCuratedOptions {
  /**
   * Where the snapshot of the current state is kept, and an s3:// lake's curated/ objects cached
   * (default: the lake's cache folder, `lakeCacheDir(store)`).
   */
  cacheDir?: string;
}

/** Bump when the snapshot's SQL changes, so old snapshots are rebuilt. */
const SNAPSHOT_VERSION = 3;

/**
 * Opens an in-memory DuckDB connection with every curated table as a named view
 * (categories, groups, venues, events, event_changes, fees, quarantine, hours).
 *
 * The lake stores every table as per-hour partitions, so that an hour's ETL run writes only its
 * own hour; the current state (newest version per key, docs/tables.md) is resolved when reading.
 * Resolving it over a million rows on every query would cost more than the query, so the views
 * read a snapshot: a DuckDB database file in the cache folder, built once per set of curated
 * files (any ETL run makes a new set) and then opened read-only by every reader. A local
 * lake's Parquet is read in place; an s3:// lake's through the ETag-keyed local cache
 * (lake/object-cache.ts: only new or rewritten objects are downloaded). Close it with `connection.closeSync()`.
 */
export async function openCurated(store: ObjectStore, options: OpenCuratedOptions = {}): Promise<DuckDBConnection> {
  const snapshot = await withRetry(async () => currentSnapshot(store, await curatedFiles(store, options), options));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(`ATTACH ${sqlString(snapshot)} AS curated_snapshot (READ_ONLY)`);
  for (const table of CURATED_TABLES) {
    await connection.run(`CREATE VIEW ${quoteIdent(table)} AS SELECT * FROM curated_snapshot.${quoteIdent(table)}`);
  }
  return connection;
}

/**
 * The default folder of a lake's curated snapshots, in the lake's cache folder: a hidden
 * folder inside a local lake (it goes away with the lake; list() never shows it), else the
 * s3:// lake's folder under the cache root (config aws.s3.cacheDir, ~/.cache/openevents).
 */
export function curatedCacheDir(store: ObjectStore): string {
  return path.join(lakeCacheDir(store), 'curated');
}

/** An ETL run may replace an hour's files while a snapshot is being built: list again and retry. */
async function withRetry<T>(build: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await build();
    } catch (error) {
      const vanished = isErrnoCode(error, 'ENOENT') || /No files found|No such file|Cannot open file/i.test(errorMessage(error));
      if (!vanished || i >= attempts) throw error;
      await new Promise((r) => setTimeout(r, 100 * i));
    }
  }
}

function cacheRootOf(store: ObjectStore, options: OpenCuratedOptions): string {
  return options.cacheDir ?? curatedCacheDir(store);
}

/** The snapshot file for this set of curated files, built if it does not exist yet. */
async function currentSnapshot(store: ObjectStore, files: Record<CuratedTable, string[]>, options: OpenCuratedOptions): Promise<string> {
  let root = cacheRootOf(store, options);
  try {
    await fs.mkdir(root, { recursive: true });
    // The folder may exist and still refuse a new file (a read-only lake, another user's cache).
    await fs.access(root, fs.constants.W_OK);
  } catch (error) {
    // A read-only local lake: keep the snapshot in the temp folder instead.
    if (options.cacheDir || !['EACCES', 'EPERM', 'EROFS', 'ENOENT'].some((code) => isErrnoCode(error, code))) throw error;
    root = path.join(os.tmpdir(), `openevents-curated-${createHash('sha1').update(store.url).digest('hex').slice(0, 12)}`);
    await fs.mkdir(root, { recursive: true });
  }
  const fingerprint = createHash('sha256').update(`v${SNAPSHOT_VERSION}\n`);
  for (const table of CURATED_TABLES) {
    for (const file of files[table]) {
      const stat = await fs.stat(file);
      fingerprint.update(`${table}\t${file}\t${stat.size}\t${Math.trunc(stat.mtimeMs)}\n`);
    }
  }
  const name = `current-${fingerprint.digest('hex').slice(0, 20)}.duckdb`;
  const target = path.join(root, name);
  if (await fs.stat(target).catch(() => undefined)) return target;
  // Built under a temporary name and renamed: a reader never opens a half-built snapshot.
  const tmp = path.join(root, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const instance = await DuckDBInstance.create(tmp, { memory_limit: '1GB', preserve_insertion_order: 'false' });
  const connection = await instance.connect();
  try {
    for (const table of CURATED_TABLES) await connection.run(`CREATE TABLE ${quoteIdent(table)} AS ${selectSql(table, files[table])}`);
    await connection.run('CHECKPOINT');
  } catch (error) {
    connection.closeSync();
    instance.closeSync();
    await fs.rm(tmp, { force: true });
    await fs.rm(`${tmp}.wal`, { force: true });
    throw error;
  }
  connection.closeSync();
  instance.closeSync();
  await fs.rename(tmp, target);
  await fs.rm(`${tmp}.wal`, { force: true });
  // Older snapshots of this lake are stale; readers that still have one open keep their handle.
  for (const entry of await fs.readdir(root)) {
    if (entry !== name && /^current-.*\.duckdb$/.test(entry)) await fs.rm(path.join(root, entry), { force: true });
  }
  return target;
}

/**
 * The current state of one table over its Parquet files, as a SELECT. `fees` reads `events`
 * (the current event versions), so it must be built after it.
 */
export function selectSql(table: CuratedTable, files: string[]): string {
  const cols = Object.keys(TABLES[table].columns);
  const all = allRowsSql(table, files);
  const newest = (key: string[], order: string): string => {
    // Rank on the narrow key columns only, then fetch the winning rows whole: sorting a million
    // wide rows (descriptions) costs far more than one streaming join. Rows are named by file
    // and row number, so exactly one row per key wins even if a partition held a key twice
    // (the ETL writes a key once per hour; a hand-made or foreign partition might not).
    const rowId = ['filename', 'file_row_number'];
    const withId = allRowsSql(table, files, true);
    const narrowCols = [...new Set([...key, 'mtime', 'arrival_hour', ...rowId])].map(quoteIdent).join(', ');
    const narrow = `SELECT filename, file_row_number FROM (SELECT ${narrowCols} FROM (${withId})) QUALIFY row_number() OVER (PARTITION BY ${key.map(quoteIdent).join(', ')} ORDER BY ${order}, filename DESC, file_row_number DESC) = 1`;
    return `SELECT ${cols.map((c) => `a.${quoteIdent(c)}`).join(', ')} FROM (${withId}) a SEMI JOIN (${narrow}) w ON a.filename = w.filename AND a.file_row_number = w.file_row_number`;
  };
  switch (table) {
    case 'event_changes':
      // The same (event, mtime) can arrive in more than one hour (a replay): keep the latest arrival.
      return newest(['event_id', 'mtime'], 'arrival_hour DESC');
    case 'fees':
      // A fee belongs to the version of the event that is current; events without a fee there have none.
      return `SELECT ${cols.map((c) => `f.${quoteIdent(c)}`).join(', ')} FROM (${all}) f JOIN events e ON f.event_id = e.event_id AND f.mtime = e.mtime AND f.arrival_hour = e.arrival_hour`;
    case 'quarantine':
    case 'hours':
      return `SELECT ${cols.map(quoteIdent).join(', ')} FROM (${all})`;
    default:
      return newest(TABLES[table].key, 'mtime DESC, arrival_hour DESC');
  }
}

/**
 * Every stored row of a table, all hours, with arrival_hour restored from the partition path;
 * with `rowId`, also each row's `filename` and `file_row_number`.
 */
export function allRowsSql(table: CuratedTable, files: string[], rowId = false): string {
  const cols = TABLES[table].columns;
  if (files.length === 0) {
    const id = rowId ? ', CAST(NULL AS VARCHAR) AS filename, CAST(NULL AS BIGINT) AS file_row_number' : '';
    return `SELECT ${Object.entries(cols)
      .map(([c, t]) => `CAST(NULL AS ${t}) AS ${quoteIdent(c)}`)
      .join(', ')}${id} WHERE false`;
  }
  const list = files.map(sqlString).join(', ');
  // Types are pinned so an engine that wrote INT where we expect BIGINT cannot change a view's type.
  const casts = Object.entries(cols)
    .map(([c, t]) => `CAST(${quoteIdent(c)} AS ${t}) AS ${quoteIdent(c)}`)
    .join(', ');
  const id = rowId ? ', filename, file_row_number' : '';
  const idOptions = rowId ? ', filename = true, file_row_number = true' : '';
  return `SELECT ${casts}${id} FROM read_parquet([${list}], hive_partitioning = true, hive_types = {'arrival_hour': VARCHAR}, union_by_name = true${idOptions})`;
}

/** Local paths of each table's Parquet files (an s3:// lake's through the ETag-keyed cache, lake/object-cache.ts). */
export async function curatedFiles(store: ObjectStore, options: OpenCuratedOptions = {}): Promise<Record<CuratedTable, string[]>> {
  const cache = options.cacheDir ? { cacheDir: options.cacheDir } : {};
  const out = Object.fromEntries(CURATED_TABLES.map((t) => [t, [] as string[]])) as Record<CuratedTable, string[]>;
  const keep = new Set<string>();
  for (const table of CURATED_TABLES) {
    const objects = (await listAll(store, `${CURATED}/${table}/`)).filter((info) => {
      const name = info.key.slice(info.key.lastIndexOf('/') + 1);
      return name.endsWith('.parquet') && !name.startsWith('_') && !name.startsWith('.');
    });
    for (const file of await localFiles(store, objects, cache)) {
      if (file === undefined) continue; // deleted since the listing
      out[table].push(file);
      keep.add(file);
    }
  }
  await pruneCachedFiles(store, `${CURATED}/`, keep, cache);
  return out;
}

/** Runs a query and returns plain JS rows (BIGINT → number when safe, else string; timestamps → ISO strings). */
export async function queryRows(connection: DuckDBConnection, sql: string): Promise<Array<Record<string, unknown>>> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowObjectsJson() as Array<Record<string, unknown>>;
}

/** A SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A quoted SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
