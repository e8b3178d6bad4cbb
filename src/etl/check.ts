import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { errorMessage } from '../errors.ts';
import { CURATED, type HourId } from '../lake/layout.ts';
import type { ObjectStore } from '../lake/store.ts';
import { sqlString } from './curated.ts';
import type { EtlHourState } from './state.ts';
import type { CuratedTable } from './tables.ts';

/** What `checkCurated` can find wrong with the curated tables. */
export interface CuratedFinding {
  kind: 'curated-missing' | 'curated-unreadable' | 'curated-mismatch';
  /** The partition folder (`curated/<table>/arrival_hour=<hour>/`) or the file. */
  key: string;
  hour: HourId;
  message: string;
}

/**
 * Verifies the curated tables against what the ETL recorded (`states`, the parsed
 * `_state/etl/hours/*.json`): every hour the ETL finished has the partitions its counts imply
 * (`hours` always, `events` and `event_changes` when it kept records, `quarantine` when it
 * rejected some), the `hours` row holds the counts of the state, and every Parquet file reads
 * to its last value. The one place that knows the curated layout for `openevents lake check`:
 * today `curated/<table>/arrival_hour=<hour>/*.parquet`. Every finding is mended by running
 * the ETL for its hour again.
 */
export async function checkCurated(store: ObjectStore, states: readonly EtlHourState[]): Promise<{ findings: CuratedFinding[]; files: number }> {
  const partitions = new Map<string, string[]>(); // `${table}\t${hour}` → keys
  for await (const info of store.list(`${CURATED}/`)) {
    const m = /^curated\/([^/]+)\/arrival_hour=([^/]+)\/([^/]+\.parquet)$/.exec(info.key);
    if (!m || m[3]!.startsWith('.') || m[3]!.startsWith('_')) continue;
    const id = `${m[1]}\t${m[2]}`;
    partitions.set(id, [...(partitions.get(id) ?? []), info.key]);
  }
  const findings: CuratedFinding[] = [];
  const partitionKey = (table: CuratedTable, hour: HourId): string => `${CURATED}/${table}/arrival_hour=${hour}/`;
  for (const state of states) {
    if (state.status !== 'done') continue;
    const expected: CuratedTable[] = ['hours'];
    if (state.validRecords > 0) expected.push('events', 'event_changes');
    if (state.quarantined > 0) expected.push('quarantine');
    for (const table of expected) {
      if (partitions.has(`${table}\t${state.hour}`)) continue;
      findings.push({
        kind: 'curated-missing',
        key: partitionKey(table, state.hour),
        hour: state.hour,
        message: `the ETL finished this hour (${state.validRecords} valid records) but its ${table} partition is gone`,
      });
    }
  }

  const statesByHour = new Map(states.map((s) => [s.hour, s]));
  const files = [...partitions.values()].flat().sort();
  const scratch = store.localPath(CURATED) === undefined ? await fs.mkdtemp(path.join(os.tmpdir(), 'openevents-check-')) : undefined;
  const instance = await DuckDBInstance.create(':memory:', { memory_limit: '512MB' });
  const connection = await instance.connect();
  try {
    for (const key of files) {
      const [, table, hour] = /^curated\/([^/]+)\/arrival_hour=([^/]+)\//.exec(key) as unknown as [string, CuratedTable, HourId];
      const file = await localFile(store, key, scratch);
      if (file === undefined) continue; // deleted since the listing
      // Every column of every row is decoded (hash), so a damaged page shows, not only a damaged footer.
      const read = await connection
        .runAndReadAll(`SELECT count(*) AS n FROM read_parquet(${sqlString(file)}) t WHERE hash(COLUMNS(*)) IS NOT NULL`)
        .then(() => undefined, (error: unknown) => errorMessage(error).split('\n')[0]);
      if (read !== undefined) {
        findings.push({ kind: 'curated-unreadable', key, hour, message: `cannot be read: ${read}` });
        continue;
      }
      const state = statesByHour.get(hour);
      if (table !== 'hours' || state?.status !== 'done') continue;
      const row = (
        await connection.runAndReadAll(
          `SELECT CAST(sum(raw_records) AS DOUBLE) AS raw, CAST(sum(valid_records) AS DOUBLE) AS valid FROM read_parquet(${sqlString(file)})`,
        )
      ).getRowObjectsJson()[0];
      if (Number(row?.raw) !== state.rawRecords || Number(row?.valid) !== state.validRecords) {
        findings.push({
          kind: 'curated-mismatch',
          key,
          hour,
          message: `holds ${Number(row?.raw)} records (${Number(row?.valid)} valid) where the ETL recorded ${state.rawRecords} (${state.validRecords}): it is not what the ETL wrote`,
        });
      }
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
    if (scratch) await fs.rm(scratch, { recursive: true, force: true });
  }
  return { findings, files: files.length };
}

/** A local path for a curated object: in place for a local lake, else a copy in `scratch`. */
async function localFile(store: ObjectStore, key: string, scratch: string | undefined): Promise<string | undefined> {
  const local = store.localPath(key);
  if (local !== undefined || scratch === undefined) return local;
  const bytes = await store.get(key);
  if (!bytes) return undefined;
  const file = path.join(scratch, key.replaceAll('/', '_'));
  await fs.writeFile(file, bytes);
  return file;
}
