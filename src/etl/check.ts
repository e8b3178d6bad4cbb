import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError, errorMessage } from '../errors.ts';
import type { HourId } from '../lake/layout.ts';
import type { ObjectStore } from '../lake/store.ts';
import { openDuck, sqlList, sqlString } from './duck.ts';
import { TABLE_MANIFEST, fileSha256, hourOwners, ownedHours, readTableManifest, segmentPath } from './segments.ts';
import type { EtlHourState } from './state.ts';

/** What `checkCurated` can find wrong with the curated tables. */
export interface CuratedFinding {
  kind: 'curated-missing' | 'curated-unreadable' | 'curated-mismatch';
  /** The file (or the table manifest) concerned. */
  key: string;
  /** The first hour concerned; absent when the table manifest itself is damaged. */
  hour?: HourId;
  /** Every hour whose rows are affected: running the ETL for them again mends the finding. */
  hours: HourId[];
  message: string;
}

/**
 * Verifies the curated tables (segments and their manifest, docs/tables.md) against what the ETL
 * recorded (`states`): the table manifest reads; every hour the ETL finished is owned by a
 * segment; every file of a live segment exists, matches the hash in its name and reads to its last
 * value; the `hours` row of every finished hour holds the counts of its state. The one place that
 * knows the curated layout for `openevents lake check`. Every finding but a damaged manifest is
 * mended by running the ETL for its hours again (their new segment replaces the damaged one).
 */
export async function checkCurated(store: ObjectStore, states: readonly EtlHourState[]): Promise<{ findings: CuratedFinding[]; files: number }> {
  let manifest;
  try {
    manifest = await readTableManifest(store);
  } catch (error) {
    return { findings: [{ kind: 'curated-unreadable', key: TABLE_MANIFEST, hours: [], message: error instanceof UserError ? error.message : errorMessage(error) }], files: 0 };
  }
  const findings: CuratedFinding[] = [];
  const owners = hourOwners(manifest);
  for (const state of states) {
    if (state.status !== 'done' || owners.has(state.hour)) continue;
    findings.push({
      kind: 'curated-missing',
      key: TABLE_MANIFEST,
      hour: state.hour,
      hours: [state.hour],
      message: `the ETL finished this hour (${state.validRecords} valid records) but no segment of the tables holds it`,
    });
  }
  const statesByHour = new Map(states.map((s) => [s.hour, s]));
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'openevents-check-'));
  const duck = await openDuck({ tempDir: scratch });
  let files = 0;
  try {
    for (const segment of manifest?.segments ?? []) {
      const hours = ownedHours(segment, owners);
      for (const [table, file] of Object.entries(segment.files)) {
        files++;
        const at = { key: file.key, hour: hours[0] as HourId, hours };
        const local = await segmentPath(store, file, { cacheDir: scratch }).catch(() => undefined);
        if (local === undefined || !(await fs.stat(local).catch(() => undefined))) {
          findings.push({ ...at, kind: 'curated-missing', message: `listed by the table manifest (${file.rows} rows of ${hours.length} hour(s)) but gone` });
          continue;
        }
        // Every column of every row is decoded (hash), so a damaged page shows, not only a damaged footer.
        const read = await duck.connection
          .runAndReadAll(`SELECT count(*) AS n FROM read_parquet(${sqlString(local)}) t WHERE hash(COLUMNS(*)) IS NOT NULL`)
          .then(() => undefined, (error: unknown) => errorMessage(error).split('\n')[0]);
        if (read !== undefined) {
          findings.push({ ...at, kind: 'curated-unreadable', message: `cannot be read: ${read}` });
          continue;
        }
        // Names are content hashes: a file that reads but does not match its name was changed after the ETL wrote it.
        const expected = /-([0-9a-f]{16})\.parquet$/.exec(file.key)?.[1];
        if (expected && (await fileSha256(local)).slice(0, 16) !== expected) {
          findings.push({ ...at, kind: 'curated-mismatch', message: 'its content is not what the ETL wrote (it does not match the hash in its name)' });
          continue;
        }
        if (table !== 'hours') continue;
        const rows = await duck.connection.runAndReadAll(
          `SELECT arrival_hour, CAST(raw_records AS DOUBLE) AS raw, CAST(valid_records AS DOUBLE) AS valid FROM read_parquet(${sqlString(local)}) WHERE arrival_hour IN ${sqlList(hours)}`,
        );
        for (const row of rows.getRowObjectsJson()) {
          const hour = String(row.arrival_hour);
          const state = statesByHour.get(hour);
          if (state?.status !== 'done' || (Number(row.raw) === state.rawRecords && Number(row.valid) === state.validRecords)) continue;
          findings.push({
            kind: 'curated-mismatch',
            key: file.key,
            hour,
            hours: [hour],
            message: `holds ${Number(row.raw)} records (${Number(row.valid)} valid) for ${hour} where the ETL recorded ${state.rawRecords} (${state.validRecords}): it is not what the ETL wrote`,
          });
        }
      }
    }
  } finally {
    duck.close();
    await fs.rm(scratch, { recursive: true, force: true });
  }
  return { findings, files };
}
