import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { UserError, errorMessage, isErrnoCode } from '../errors.ts';
import { isAlive } from '../jobs/local.ts';
import { CURATED } from '../lake/layout.ts';
import { lakeCacheDir, type CacheOptions } from '../lake/object-cache.ts';
import type { ObjectStore } from '../lake/store.ts';
import { readFilesOf } from './compact.ts';
import { openDuck, quoteIdent, readingFiles, sqlString, typedColumns } from './duck.ts';
import { MissingFileError, hourOwners, pruneSegmentCopies, readTableManifest, type HourOwner, type TableManifest } from './segments.ts';
import { CURATED_TABLES, TABLES, type CuratedTable } from './tables.ts';

export { quoteIdent, sqlString };

export interface OpenCuratedOptions {
  /**
   * Where the snapshot of the current state is kept, and an s3:// lake's curated objects cached
   * (default: `curatedCacheDir(store)` for snapshots, the lake's object cache for objects).
   */
  cacheDir?: string;
}

/** Bump when the snapshot's schema or SQL changes, so old snapshots are rebuilt. */
const SNAPSHOT_VERSION = 4;

/**
 * Opens an in-memory DuckDB connection with every curated table as a named view
 * (categories, groups, venues, events, event_changes, fees, quarantine, hours).
 *
 * The lake stores every table as segments of per-hour rows (so an hour's ETL run writes only its
 * own hour); the current state (newest version per key, docs/tables.md) is resolved when reading.
 * The views read a snapshot: a DuckDB database file in the cache folder holding the resolved
 * tables, named after the table manifest's generation — one small read tells whether it is
 * current. When it is not, the newest earlier snapshot is copied and brought up to date by
 * re-resolving only the keys of the hours whose revision changed (an hourly run costs the rows of
 * that hour, not the history); compaction changes no revision, so it costs nothing here. An
 * s3:// lake's segment files are read through the lake's object cache (lake/object-cache.ts: each downloaded once). Close it with
 * `connection.closeSync()`.
 */
export async function openCurated(store: ObjectStore, options: OpenCuratedOptions = {}): Promise<DuckDBConnection> {
  const snapshot = await withRetry(() => currentSnapshot(store, options));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  readers.set(snapshot, (readers.get(snapshot) ?? 0) + 1);
  const close = connection.closeSync.bind(connection);
  // Closing the connection also lets go of the snapshot file, so it can be updated in place.
  connection.closeSync = () => {
    close();
    instance.closeSync();
    const left = (readers.get(snapshot) ?? 1) - 1;
    if (left > 0) readers.set(snapshot, left);
    else readers.delete(snapshot);
  };
  await connection.run(`ATTACH ${sqlString(snapshot)} AS curated_snapshot (READ_ONLY)`);
  for (const table of CURATED_TABLES) {
    await connection.run(`CREATE VIEW ${quoteIdent(table)} AS SELECT * FROM curated_snapshot.${quoteIdent(table)}`);
  }
  return connection;
}

/** Brings the snapshot of the lake's current state up to date (what the first `openCurated` after a change would do). */
export async function refreshSnapshot(store: ObjectStore, options: OpenCuratedOptions = {}): Promise<void> {
  await withRetry(() => currentSnapshot(store, options));
}

/**
 * The default folder of a lake's curated snapshots, in the lake's cache folder: a hidden
 * folder inside a local lake (it goes away with the lake; list() never shows it), else the
 * s3:// lake's folder under the cache root (config aws.s3.cacheDir, ~/.cache/openevents).
 */
export function curatedCacheDir(store: ObjectStore): string {
  return path.join(lakeCacheDir(store), 'curated');
}

/** Where a read-only local lake's snapshots go instead: a folder per lake in the OS temp folder. */
function tempCacheDir(store: ObjectStore): string {
  return path.join(os.tmpdir(), `openevents-curated-${createHash('sha1').update(store.url).digest('hex').slice(0, 12)}`);
}

/** Where an s3:// lake's segment files are cached: beside the snapshots when the caller names a folder, else the lake's object cache. */
function cacheOf(options: OpenCuratedOptions): CacheOptions {
  return options.cacheDir ? { cacheDir: options.cacheDir } : {};
}

/** An ETL commit may replace files while a snapshot is being brought up to date: read the manifest again and retry. */
async function withRetry<T>(build: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await build();
    } catch (error) {
      const vanished = error instanceof MissingFileError || isErrnoCode(error, 'ENOENT') || /No files found|No such file|Cannot open file/i.test(errorMessage(error));
      if (!vanished || i >= attempts) throw error;
      await new Promise((r) => setTimeout(r, 100 * i));
    }
  }
}

/** The cache folder, created; a read-only local lake keeps its snapshots in the temp folder instead. */
async function cacheRoot(store: ObjectStore, options: OpenCuratedOptions): Promise<string> {
  const root = options.cacheDir ?? curatedCacheDir(store);
  try {
    await fs.mkdir(root, { recursive: true });
    // The folder may exist and still refuse a new file (a read-only lake, another user's cache).
    await fs.access(root, fs.constants.W_OK);
    return root;
  } catch (error) {
    if (options.cacheDir || !['EACCES', 'EPERM', 'EROFS', 'ENOENT'].some((code) => isErrnoCode(error, code))) throw error;
    const fallback = tempCacheDir(store);
    await fs.mkdir(fallback, { recursive: true });
    return fallback;
  }
}

const SNAPSHOT_FILE = /^snapshot-(.+)-g(\d+)-v(\d+)\.duckdb$/;

/** The snapshot file for the manifest's generation, made if it does not exist yet. */
async function currentSnapshot(store: ObjectStore, options: OpenCuratedOptions): Promise<string> {
  const root = await cacheRoot(store, options);
  const manifest = await readTableManifest(store);
  if (!manifest) await refuseLegacyLayout(store);
  const tableId = manifest?.tableId ?? 'none';
  const name = `snapshot-${tableId}-g${manifest?.generation ?? 0}-v${SNAPSHOT_VERSION}.duckdb`;
  const target = path.join(root, name);
  if (await exists(target)) return target;
  const release = await lockUpdates(root);
  try {
    if (await exists(target)) return target; // another process made it while this one waited
    await makeSnapshot(root, target, store, manifest, cacheOf(options));
  } finally {
    await release();
  }
  // Older snapshots are stale; readers that still have one open keep their handle.
  for (const entry of await fs.readdir(root)) {
    if (entry !== name && (SNAPSHOT_FILE.test(entry) || /^current-.*\.duckdb$/.test(entry))) await fs.rm(path.join(root, entry), { force: true });
  }
  await pruneSegmentCopies(store, manifest, cacheOf(options));
  return target;
}

/**
 * Makes `target` from the newest snapshot of these tables (or from nothing), under the update
 * lock. The base is updated in place when nobody reads it — it is renamed away first, so no new
 * reader opens it, and DuckDB's lock tells whether another process still has it open — and
 * otherwise a copy is. The work happens under a hidden name and is renamed into place: a reader
 * never opens a half-made snapshot. A crash leaves the work file, which the next update resumes
 * from (DuckDB rolls back the unfinished transaction).
 */
async function makeSnapshot(root: string, target: string, store: ObjectStore, manifest: TableManifest | undefined, cache: CacheOptions): Promise<void> {
  const tableId = manifest?.tableId ?? 'none';
  const entries = await fs.readdir(root);
  const newest = entries
    .map((e) => ({ e, m: SNAPSHOT_FILE.exec(e) }))
    .filter(({ m }) => m && m[1] === tableId && Number(m[3]) === SNAPSHOT_VERSION)
    .sort((a, b) => Number(b.m![2]) - Number(a.m![2]))[0]?.e;
  // Work files of killed updates (the lock is ours, so nobody else is using them).
  const leftovers = entries.filter((e) => new RegExp(`^\\.work-${tableId}-v${SNAPSHOT_VERSION}-`).test(e) && e.endsWith('.duckdb'));
  for (const e of entries) if (e.startsWith('.work-') && !leftovers.includes(e) && !leftovers.some((l) => e === `${l}.wal`)) await fs.rm(path.join(root, e), { force: true });
  const work = path.join(root, `.work-${tableId}-v${SNAPSHOT_VERSION}-${process.pid}-${randomBytes(4).toString('hex')}.duckdb`);
  const base = newest ? path.join(root, newest) : leftovers[0] ? path.join(root, leftovers[0]) : undefined;
  for (const l of leftovers) if (base !== path.join(root, l)) await removeDb(path.join(root, l));
  if (!base) {
    await updateSnapshot(work, store, manifest, true, cache);
  } else if (!readers.has(base)) {
    await renameDb(base, work);
    try {
      await updateSnapshot(work, store, manifest, false, cache);
    } catch (error) {
      if (!/Could not set lock on file/.test(errorMessage(error))) throw error;
      // Another process has it open: update a copy; the old file stays theirs until they close it.
      const copy = path.join(root, `.copy-${path.basename(work)}`);
      await fs.copyFile(work, copy);
      await fs.rm(work, { force: true });
      await renameDb(copy, work);
      await updateSnapshot(work, store, manifest, false, cache);
    }
  } else {
    await fs.copyFile(base, work);
    await updateSnapshot(work, store, manifest, false, cache);
  }
  await renameDb(work, target);
}

/** Renames a DuckDB file with its write-ahead log. */
async function renameDb(from: string, to: string): Promise<void> {
  await fs.rename(from, to);
  await fs.rename(`${from}.wal`, `${to}.wal`).catch(() => undefined);
}

async function removeDb(file: string): Promise<void> {
  await fs.rm(file, { force: true });
  await fs.rm(`${file}.wal`, { force: true });
}

async function exists(file: string): Promise<boolean> {
  return (await fs.stat(file).catch(() => undefined)) !== undefined;
}

/** Snapshot files this process has open (fcntl locks do not tell a process about its own readers). */
const readers = new Map<string, number>();

/**
 * Serialises snapshot updates across processes: an exclusive lock file with the holder's pid; a
 * lock whose holder is gone (killed) is taken over. Waits while another update runs.
 */
async function lockUpdates(root: string, timeoutMs = 15 * 60_000): Promise<() => Promise<void>> {
  const lock = path.join(root, '.update.lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fs.writeFile(lock, `${os.hostname()} ${process.pid}\n`, { flag: 'wx' });
      return () => fs.rm(lock, { force: true });
    } catch (error) {
      if (!isErrnoCode(error, 'EEXIST')) throw error;
    }
    const [host, pid] = (await fs.readFile(lock, 'utf8').catch(() => '')).trim().split(' ');
    const stat = await fs.stat(lock).catch(() => undefined);
    const dead = host === os.hostname() && pid !== undefined && !isAlive(Number(pid));
    if (dead || (stat && stat.mtimeMs < Date.now() - timeoutMs)) {
      await fs.rm(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new UserError(`the curated snapshot in ${root} is being updated by process ${pid} on ${host} for too long`, { hint: `if that process is gone, remove ${lock}` });
    await new Promise((r) => setTimeout(r, 50));
  }
}


/** A lake whose curated tables were written by an earlier version must be migrated (by any `etl` run) before it is read. */
async function refuseLegacyLayout(store: ObjectStore): Promise<void> {
  for (const table of CURATED_TABLES) {
    for await (const _ of store.list(`${CURATED}/${table}/arrival_hour=`)) {
      throw new UserError('the curated tables are in the layout of an earlier version (one folder per hour)', {
        hint: 'run `openevents etl` once: it moves them into segments (docs/tables.md) and processes any pending hours',
      });
    }
  }
}

/** Current-state tables: resolved from their versions (key, mtime, arrival_hour) kept in `_v_<table>`. */
const RESOLVED: Partial<Record<CuratedTable, { key: string[]; order: string }>> = {
  categories: { key: ['category_id'], order: 'mtime DESC, arrival_hour DESC' },
  groups: { key: ['group_id'], order: 'mtime DESC, arrival_hour DESC' },
  venues: { key: ['venue_key'], order: 'mtime DESC, arrival_hour DESC' },
  events: { key: ['event_id'], order: 'mtime DESC, arrival_hour DESC' },
  // The same (event, mtime) can arrive in more than one hour (a replay): the latest arrival is kept.
  event_changes: { key: ['event_id', 'mtime'], order: 'arrival_hour DESC' },
};

async function createSchema(c: DuckDBConnection): Promise<void> {
  for (const table of CURATED_TABLES) {
    const cols = TABLES[table].columns;
    await c.run(`CREATE TABLE ${quoteIdent(table)} (${Object.entries(cols).map(([n, t]) => `${quoteIdent(n)} ${t}`).join(', ')})`);
    const resolved = RESOLVED[table];
    if (resolved) {
      const vcols = [...new Set([...resolved.key, 'mtime', 'arrival_hour'])];
      await c.run(`CREATE TABLE ${quoteIdent(`_v_${table}`)} (${vcols.map((n) => `${quoteIdent(n)} ${cols[n]}`).join(', ')})`);
    }
  }
  await c.run(`CREATE TABLE _hours (arrival_hour VARCHAR, rev BIGINT)`);
}

/**
 * Brings a snapshot file up to date with the manifest: for every hour whose revision changed
 * (added, rerun or gone), its rows are replaced and the current state of the keys it held or now
 * holds is resolved again over their versions. A fresh snapshot is the same with every hour new.
 */
async function updateSnapshot(file: string, store: ObjectStore, manifest: TableManifest | undefined, fresh: boolean, cache: CacheOptions): Promise<void> {
  const duck = await openDuck({ file, tempDir: path.join(path.dirname(file), 'tmp') });
  const c = duck.connection;
  try {
    if (fresh) await createSchema(c);
    const current = new Map((await c.runAndReadAll(`SELECT arrival_hour, rev FROM _hours`)).getRowsJS().map((r) => [String(r[0]), Number(r[1])]));
    const owners = hourOwners(manifest);
    const changed = new Set<string>();
    for (const [hour, owner] of owners) if (current.get(hour) !== owner.rev) changed.add(hour);
    for (const hour of current.keys()) if (!owners.has(hour)) changed.add(hour);
    if (changed.size === 0) return;
    await c.run(`CREATE TEMP TABLE _c AS SELECT unnest([${[...changed].map(sqlString).join(', ')}]::VARCHAR[]) AS arrival_hour`);
    const segments = [...new Set([...changed].flatMap((h) => (owners.has(h) ? [owners.get(h)!.segment] : [])))];
    for (const table of CURATED_TABLES) await loadRows(c, store, table, `_n_${table}`, segments, owners, cache, changed);
    await c.run('BEGIN TRANSACTION');
    for (const table of CURATED_TABLES) {
      const resolved = RESOLVED[table];
      if (resolved) await resolve(c, store, table, resolved, owners, cache);
      else if (table !== 'fees') {
        await c.run(`DELETE FROM ${quoteIdent(table)} WHERE arrival_hour IN (SELECT arrival_hour FROM _c)`);
        await c.run(`INSERT INTO ${quoteIdent(table)} SELECT * FROM _n_${table}`);
      }
    }
    // A fee belongs to the version of its event that is current: re-derived for the events re-resolved.
    await c.run(`DELETE FROM fees WHERE event_id IN (SELECT event_id FROM _a_events)`);
    await c.run(`INSERT INTO fees SELECT f.* FROM _n_fees f SEMI JOIN _w_events w USING (event_id, arrival_hour)`);
    await fetchOlder(c, store, 'fees', 'fees', '_w_events', ['event_id'], owners, cache);
    await c.run(`DELETE FROM _hours WHERE arrival_hour IN (SELECT arrival_hour FROM _c)`);
    const revs = [...changed].filter((h) => owners.has(h)).map((h) => `(${sqlString(h)}, ${owners.get(h)!.rev})`);
    if (revs.length > 0) await c.run(`INSERT INTO _hours VALUES ${revs.join(', ')}`);
    await c.run('COMMIT');
    await c.run('CHECKPOINT');
  } finally {
    duck.close();
  }
}

/** Loads the rows of the given hours of a table, from the segments that own them, into a temporary table. */
async function loadRows(
  c: DuckDBConnection,
  store: ObjectStore,
  table: CuratedTable,
  into: string,
  segments: Parameters<typeof readFilesOf>[1],
  owners: ReadonlyMap<string, HourOwner>,
  cache: CacheOptions,
  hours: ReadonlySet<string>,
  semiJoin?: string,
): Promise<void> {
  const files = await readFilesOf(store, segments, table, owners, cache, hours);
  const from =
    files.length === 0
      ? `SELECT * FROM ${quoteIdent(table)} WHERE false`
      : files.map((f) => `SELECT ${typedColumns(table)} FROM read_parquet(${sqlString(f.path)})${f.filter}`).join(' UNION ALL ');
  const sql = semiJoin ? `SELECT x.* FROM (${from}) x SEMI JOIN ${semiJoin}` : from;
  await readingFiles(c, store, files, () => c.run(`CREATE OR REPLACE TEMP TABLE ${into} AS ${sql}`));
}

/**
 * Re-resolves a current-state table for the changed hours: the keys they held or hold (`_a_`) get
 * their versions replaced in `_v_`, their winners picked again (`_w_`), and their rows taken from
 * the new rows — or, when an older version wins again (its newer one was rerun away), from the
 * segment of that older hour.
 */
async function resolve(
  c: DuckDBConnection,
  store: ObjectStore,
  table: CuratedTable,
  { key, order }: { key: string[]; order: string },
  owners: ReadonlyMap<string, HourOwner>,
  cache: CacheOptions,
): Promise<void> {
  const t = quoteIdent(table);
  const v = quoteIdent(`_v_${table}`);
  const k = key.map(quoteIdent).join(', ');
  const vcols = [...new Set([...key, 'mtime', 'arrival_hour'])].map(quoteIdent).join(', ');
  await c.run(
    `CREATE OR REPLACE TEMP TABLE _a_${table} AS SELECT DISTINCT ${k} FROM (SELECT ${k} FROM ${v} WHERE arrival_hour IN (SELECT arrival_hour FROM _c) UNION ALL SELECT ${k} FROM _n_${table})`,
  );
  await c.run(`DELETE FROM ${v} WHERE arrival_hour IN (SELECT arrival_hour FROM _c)`);
  await c.run(`INSERT INTO ${v} SELECT ${vcols} FROM _n_${table}`);
  await c.run(
    `CREATE OR REPLACE TEMP TABLE _w_${table} AS SELECT ${k}, arrival_hour FROM (SELECT ${k}, arrival_hour, row_number() OVER (PARTITION BY ${k} ORDER BY ${order}) AS rn FROM ${v} SEMI JOIN _a_${table} USING (${k})) WHERE rn = 1`,
  );
  await c.run(`DELETE FROM ${t} USING _a_${table} a WHERE ${key.map((col) => `${t}.${quoteIdent(col)} = a.${quoteIdent(col)}`).join(' AND ')}`);
  await c.run(`INSERT INTO ${t} SELECT n.* FROM _n_${table} n SEMI JOIN _w_${table} USING (${k}, arrival_hour)`);
  await fetchOlder(c, store, table, table, `_w_${table}`, key, owners, cache);
}

/** Inserts the winning rows that live in hours that did not change (an older version winning again). */
async function fetchOlder(
  c: DuckDBConnection,
  store: ObjectStore,
  table: CuratedTable,
  into: string,
  winners: string,
  key: string[],
  owners: ReadonlyMap<string, HourOwner>,
  cache: CacheOptions,
): Promise<void> {
  const older = (await c.runAndReadAll(`SELECT DISTINCT arrival_hour FROM ${winners} WHERE arrival_hour NOT IN (SELECT arrival_hour FROM _c)`)).getRowsJS().map((r) => String(r[0]));
  if (older.length === 0) return;
  const hours = new Set(older);
  const segments = [...new Set(older.flatMap((h) => (owners.has(h) ? [owners.get(h)!.segment] : [])))];
  await loadRows(c, store, table, `_o_${table}`, segments, owners, cache, hours, `${winners} w USING (${[...key, 'arrival_hour'].map(quoteIdent).join(', ')})`);
  await c.run(`INSERT INTO ${quoteIdent(into)} SELECT * FROM _o_${table}`);
}

/** Runs a query and returns plain JS rows (BIGINT → number when safe, else string; timestamps → ISO strings). */
export async function queryRows(connection: DuckDBConnection, sql: string): Promise<Array<Record<string, unknown>>> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowObjectsJson() as Array<Record<string, unknown>>;
}
