import { existsSync, promises as fs, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEtl } from '../../src/etl/run.ts';
import { hourOwners, readTableManifest } from '../../src/etl/segments.ts';
import type { CuratedTable } from '../../src/etl/tables.ts';
import { importLines } from '../../src/lake/import.ts';
import { manifestKey, rawHourPrefix, type HourId } from '../../src/lake/layout.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { runCli } from '../helpers/cli.ts';
import { fileTree } from '../helpers/file-tree.ts';
import { event } from '../helpers/etl-fixtures.ts';
import { tempLake } from '../helpers/etl-lake.ts';

const HOURS: HourId[] = ['2015-03-09T01', '2015-03-09T02', '2015-03-09T03', '2015-03-09T04', '2015-03-09T05', '2015-03-09T06'];
const [H1, H2, H3, H4, H5, H6] = HOURS as [HourId, HourId, HourId, HourId, HourId, HourId];
const NOW = Date.parse('2015-03-10T00:00:00Z');

const rawOf = (t: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(t).filter(([k]) => k.startsWith('raw/') && !path.basename(k).startsWith('_') && !path.basename(k).startsWith('.')));

/** Ten events per hour, each hour written by its own import (two objects per hour). */
async function buildLake(store: LocalStore): Promise<void> {
  for (const [h, hour] of HOURS.entries()) {
    for (const part of [0, 1]) {
      const lines = Array.from({ length: 5 }, (_, i) => JSON.stringify(event({ id: `e${h}-${part}-${i}`, mtime: 1425862800000 + h * 3_600_000 + part * 10 + i })));
      await importLines(store, lines, { partitionBy: 'arrival', arrivalHour: hour, writer: `w${h}x${part}`, now: NOW });
    }
  }
  // One pass per hour, left uncompacted: each hour has its own segment (its own files)
  await runEtl(store, { select: { all: true }, batchRecords: 10, compact: false });
}

/** The file of a table in the segment that owns an hour, relative to the lake. */
async function curatedFile(store: LocalStore, table: CuratedTable, hour: HourId): Promise<string> {
  return hourOwners(await readTableManifest(store)).get(hour)!.segment.files[table]!.key;
}

/** An hour's ETL state (in its month's document). */
function stateOf(dir: string, hour: HourId): { status: string; rawRecords: number } {
  return (JSON.parse(readFileSync(path.join(dir, `_state/etl/hours/${hour.slice(0, 7)}.json`), 'utf8')) as { hours: Record<string, { status: string; rawRecords: number }> }).hours[hour]!;
}

interface Finding {
  kind: string;
  severity: 'error' | 'warning';
  key: string;
  hour?: string;
  message: string;
  repair?: string;
  repaired?: boolean;
}
interface Report {
  ok: boolean;
  findings: Finding[];
  checked: Record<string, number>;
}

const kinds = (r: Report): string[] => r.findings.map((f) => `${f.kind} ${f.key}`).sort();

describe('openevents lake check', () => {
  let lake: Awaited<ReturnType<typeof tempLake>>;
  let clean: Awaited<ReturnType<typeof tempLake>>;
  let rawBefore: Record<string, string>;
  let eventsH3 = 0;
  const damaged: Record<string, string> = {};

  beforeAll(async () => {
    clean = await tempLake();
    await buildLake(clean.store);
    lake = await tempLake();
    await buildLake(lake.store);
    const dir = lake.dir;
    const q = await runCli(['query', '--lake', dir, '--format', 'json', `SELECT count(*) AS n FROM events WHERE arrival_hour = '${H3}'`]);
    eventsH3 = (JSON.parse(q.stdout) as Array<{ n: number }>)[0]!.n;

    // H1: a raw file listed in the manifest is gone (data loss: nothing can rebuild it)
    const h1 = readdirSync(path.join(dir, rawHourPrefix(H1))).filter((n) => !n.startsWith('_'));
    damaged.missing = `${rawHourPrefix(H1)}${h1[0]}`;
    await fs.rm(path.join(dir, damaged.missing));
    // H2: its manifest and its ETL state (a per-hour record, as earlier versions wrote) are garbage, and a curated file of it is cut short
    writeFileSync(path.join(dir, manifestKey(H2)), '{"hour":"2015-03-09T02","files":[{"key"');
    writeFileSync(path.join(dir, `_state/etl/hours/${H2}.json`), '');
    damaged.cut = path.join(dir, await curatedFile(lake.store, 'groups', H2));
    const bytes = readFileSync(damaged.cut);
    writeFileSync(damaged.cut, bytes.subarray(0, bytes.length - 20));
    // H3: one curated file deleted
    damaged.deleted = await curatedFile(lake.store, 'events', H3);
    await fs.rm(path.join(dir, damaged.deleted));
    // H4: a raw file truncated mid-gzip (unreadable; never deleted)
    const h4 = readdirSync(path.join(dir, rawHourPrefix(H4))).filter((n) => !n.startsWith('_'));
    damaged.truncated = `${rawHourPrefix(H4)}${h4[0]}`;
    const gz = readFileSync(path.join(dir, damaged.truncated));
    writeFileSync(path.join(dir, damaged.truncated), gz.subarray(0, gz.length - 8));
    // H5: a raw file holds fewer records than its manifest says (rewritten with 3 of its 5 lines)
    const h5 = readdirSync(path.join(dir, rawHourPrefix(H5))).filter((n) => !n.startsWith('_'));
    damaged.fewer = `${rawHourPrefix(H5)}${h5[0]}`;
    writeFileSync(path.join(dir, damaged.fewer), gzipSync(Array.from({ length: 3 }, (_, i) => JSON.stringify(event({ id: `x${i}`, mtime: i }))).join('\n') + '\n'));
    // H6: a closed hour whose manifest was lost
    await fs.rm(path.join(dir, manifestKey(H6)));
    // Stray temporaries of processes long dead: a write cut short and an ETL scratch folder
    damaged.temp = `${rawHourPrefix(H6)}.w5x0-1-5.ndjson.gz.99999999.abcd1234.tmp`;
    writeFileSync(path.join(dir, damaged.temp), 'half a file');
    mkdirSync(path.join(dir, '.etl-99999999-abcd1234/2015-03-09T06'), { recursive: true });
    writeFileSync(path.join(dir, '.etl-99999999-abcd1234/2015-03-09T06/x.parquet'), 'x');
    rawBefore = rawOf(fileTree(dir));
  });
  afterAll(async () => {
    await lake.cleanup();
    await clean.cleanup();
  });

  it('finds nothing wrong with a healthy lake and exits 0', async () => {
    const run = await runCli(['lake', 'check', '--lake', clean.dir]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/6 raw hours, 12 raw files, 60 records, 6 manifests, 6 ETL states, \d+ curated files: no problems/);
  });

  it('reports every kind of damage, changes nothing, and exits 1', async () => {
    const before = fileTree(lake.dir);
    const run = await runCli(['lake', 'check', '--json', '--lake', lake.dir]);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.ok).toBe(false);
    expect(kinds(report)).toEqual(
      [
        `raw-missing ${damaged.missing}`,
        `manifest-corrupt ${manifestKey(H2)}`,
        `state-corrupt _state/etl/hours/${H2}.json`,
        `curated-unreadable ${path.relative(lake.dir, damaged.cut!)}`,
        `curated-missing ${damaged.deleted}`,
        `raw-unreadable ${damaged.truncated}`,
        `raw-count-mismatch ${damaged.fewer}`,
        `manifest-missing ${manifestKey(H6)}`,
        `stray-temp ${damaged.temp}`,
        `stray-temp .etl-99999999-abcd1234/`,
      ].sort(),
    );
    const byKind = new Map(report.findings.map((f) => [f.kind, f]));
    expect(byKind.get('raw-missing')).toMatchObject({ severity: 'error', hour: H1 });
    expect(byKind.get('raw-missing')?.repair).toBeUndefined();
    expect(byKind.get('raw-unreadable')?.message).toMatch(/truncated gzip/);
    expect(byKind.get('raw-count-mismatch')?.message).toMatch(/3 records, the manifest says 5/);
    expect(byKind.get('curated-missing')?.repair).toMatch(/ETL/);
    expect(fileTree(lake.dir)).toEqual(before);
    const text = await runCli(['lake', 'check', '--lake', lake.dir]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`error    ${damaged.missing}: listed in the manifest but not in the lake`);
    expect(text.stderr).toMatch(/error: 10 problems .*; `openevents lake check --repair` mends 7 of them/);
  });

  it('--repair rebuilds what raw data can rebuild, never deletes raw data, and reports what is left', async () => {
    const run = await runCli(['lake', 'check', '--repair', '--json', '--lake', lake.dir]);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    const repaired = report.findings.filter((f) => f.repaired).map((f) => f.kind).sort();
    expect(repaired).toEqual(['curated-missing', 'curated-unreadable', 'manifest-corrupt', 'manifest-missing', 'state-corrupt', 'stray-temp', 'stray-temp']);
    const left = report.findings.filter((f) => !f.repaired).map((f) => `${f.kind} ${f.key}`).sort();
    expect(left).toEqual([`raw-count-mismatch ${damaged.fewer}`, `raw-missing ${damaged.missing}`, `raw-unreadable ${damaged.truncated}`].sort());

    // Raw data is exactly as it was, the temporaries are gone
    const after = fileTree(lake.dir);
    expect(rawOf(after)).toEqual(rawBefore);
    expect(existsSync(path.join(lake.dir, damaged.temp!))).toBe(false);
    expect(existsSync(path.join(lake.dir, '.etl-99999999-abcd1234'))).toBe(false);
    // The manifests were rebuilt from the raw files, like those of the healthy lake
    for (const hour of [H2, H6]) {
      const rebuilt = JSON.parse(readFileSync(path.join(lake.dir, manifestKey(hour)), 'utf8')) as { records: number; files: Array<{ key: string; records: number }> };
      const healthy = JSON.parse(readFileSync(path.join(clean.dir, manifestKey(hour)), 'utf8')) as typeof rebuilt;
      expect(rebuilt.files).toEqual(healthy.files);
      expect(rebuilt.records).toBe(10);
    }
    // The deleted and the damaged curated files are replaced, by the ETL
    const q = await runCli(['query', '--lake', lake.dir, '--format', 'json', `SELECT count(*) AS n FROM events WHERE arrival_hour = '${H3}'`]);
    expect(JSON.parse(q.stdout)).toEqual([{ n: eventsH3 }]);
    expect(statSync(path.join(lake.dir, await curatedFile(lake.store, 'events', H3))).isFile()).toBe(true);
    expect(stateOf(lake.dir, H2)).toMatchObject({ hour: H2, status: 'done', rawRecords: 10 });
    expect(existsSync(path.join(lake.dir, `_state/etl/hours/${H2}.json`))).toBe(false);

    // And a second check finds only what no repair can mend
    const again = await runCli(['lake', 'check', '--json', '--lake', lake.dir]);
    expect(kinds(JSON.parse(again.stdout) as Report)).toEqual(left);
  });

  it('finds a curated partition that is not what the ETL wrote, and an hour the ETL ran over lost raw data', async () => {
    // (on the healthy lake: the last test that uses it)
    // Given the hours file of H1 overwritten by hand (as a stray COPY … TO would)
    const file = path.join(clean.dir, await curatedFile(clean.store, 'hours', H1));
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(`COPY (SELECT raw_records - 3 AS raw_records, * EXCLUDE (raw_records) FROM read_parquet('${file}')) TO '${file}.new' (FORMAT parquet)`);
    connection.closeSync();
    instance.closeSync();
    await fs.rename(`${file}.new`, file);
    // And a raw file of H2 lost, then the ETL run for H2 anyway
    const h2 = readdirSync(path.join(clean.dir, rawHourPrefix(H2))).filter((n) => !n.startsWith('_'));
    await fs.rm(path.join(clean.dir, rawHourPrefix(H2), h2[0]!));
    await runEtl(clean.store, { select: { hours: [H2] } }).catch(() => undefined);
    const state = stateOf(clean.dir, H2);

    const run = await runCli(['lake', 'check', '--json', '--lake', clean.dir]);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.findings.find((f) => f.kind === 'curated-mismatch')).toMatchObject({ key: path.relative(clean.dir, file), hour: H1, repair: expect.stringMatching(/ETL/) });
    // The ETL may refuse to replace an hour with fewer records than its manifest lists; if it did not, the check says so
    expect(report.findings.some((f) => f.kind === 'curated-incomplete' && f.hour === H2)).toBe(state.status === 'done' && state.rawRecords < 10);
    expect(report.findings.find((f) => f.kind === 'raw-missing')).toMatchObject({ hour: H2 });

    const repaired = await runCli(['lake', 'check', '--repair', '--json', '--lake', clean.dir]);
    const after = JSON.parse(repaired.stdout) as Report;
    expect(after.findings.find((f) => f.kind === 'curated-mismatch')?.repaired).toBe(true);
    expect(after.findings.filter((f) => !f.repaired).map((f) => f.hour)).toEqual(after.findings.filter((f) => !f.repaired).map(() => H2));
  });
});
