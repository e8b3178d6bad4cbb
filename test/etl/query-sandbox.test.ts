import { promises as fs, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { runEtl } from '../../src/etl/run.ts';
import { runQuery } from '../../src/etl/query.ts';
import { runCli } from '../helpers/cli.ts';
import { fileTree } from '../helpers/file-tree.ts';
import { event, H1, H2 } from '../helpers/etl-fixtures.ts';
import { tempLake, writeRawObject } from '../helpers/etl-lake.ts';


async function refusal(promise: Promise<unknown>): Promise<UserError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the statement ran').toBeInstanceOf(UserError);
  return error as UserError;
}

describe('query runs sandboxed: it reads the curated tables and nothing else', () => {
  let lake: Awaited<ReturnType<typeof tempLake>>;
  let outside: string;
  let server: Server;
  let requests = 0;
  let port = 0;
  let partition = '';

  beforeAll(async () => {
    // Given a lake with two processed hours (the ETL's own Parquet files) and a query cache
    lake = await tempLake();
    outside = await fs.mkdtemp(path.join(os.tmpdir(), 'oe-outside-'));
    const lines = (ids: string[], base: number) => ids.map((id, i) => JSON.stringify(event({ id, mtime: base + i }))).join('\n') + '\n';
    await writeRawObject(lake.store, H1, 'w-1-3.ndjson', lines(['a1', 'a2', 'a3'], 1000));
    await writeRawObject(lake.store, H2, 'w-4-5.ndjson', lines(['b1', 'b2'], 2000));
    await runEtl(lake.store, { select: { all: true } });
    await runQuery(lake.store, 'SELECT 1'); // builds the snapshot in .cache/
    const dir = path.join(lake.dir, 'curated/events');
    partition = path.join(dir, readdirSync(dir).find((n) => n.endsWith('.parquet'))!);
    server = createServer((_req, res) => {
      requests++;
      res.end('x');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await lake.cleanup();
    await fs.rm(outside, { recursive: true, force: true });
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers reading statements: SELECT, WITH, FROM-first, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN, PRAGMA show_tables', async () => {
    expect((await runQuery(lake.store, 'SELECT count(*) AS n FROM events')).rows).toEqual([[5]]);
    expect((await runQuery(lake.store, 'WITH e AS (SELECT * FROM events) SELECT count(*) FROM e WHERE event_id LIKE \'a%\'')).rows).toEqual([[3]]);
    expect((await runQuery(lake.store, 'FROM hours SELECT count(*)')).rows).toEqual([[2]]);
    expect((await runQuery(lake.store, 'DESCRIBE events')).rows.map((r) => r[0])).toContain('event_id');
    expect((await runQuery(lake.store, 'SHOW TABLES')).rows.flat()).toEqual(expect.arrayContaining(['events', 'groups', 'hours']));
    expect((await runQuery(lake.store, 'SUMMARIZE events')).rows.length).toBeGreaterThan(3);
    expect((await runQuery(lake.store, 'EXPLAIN SELECT * FROM events')).rows.length).toBe(1);
    expect((await runQuery(lake.store, 'PRAGMA show_tables')).rows.flat()).toContain('venues');
    expect((await runQuery(lake.store, 'SELECT 1 AS a; SELECT 2 AS b')).rows).toEqual([[2]]);
  });

  const attacks: Array<[string, (ctx: { partition: string; outside: string; lake: string; port: number }) => string, RegExp]> = [
    ['COPY over a curated partition', (c) => `COPY (SELECT * FROM events LIMIT 1) TO '${c.partition}' (FORMAT parquet)`, /opens ".*curated\/events\/.*\.parquet"/],
    ['COPY to a file anywhere', (c) => `COPY (SELECT 1) TO '${c.outside}/out.csv'`, /opens ".*out\.csv"/],
    ['a reading statement then COPY', (c) => `SELECT 1; COPY (SELECT 1) TO '${c.outside}/out2.csv'`, /opens ".*out2\.csv"/],
    ['COPY FROM a file', () => `COPY curated_snapshot.hours FROM '/etc/passwd'`, /passwd/],
    ['ATTACH creating a database file', (c) => `ATTACH '${c.outside}/new.duckdb' AS n`, /ATTACH/],
    ['ATTACH inside the lake', (c) => `ATTACH '${c.lake}/curated/new.duckdb' AS n`, /ATTACH/],
    ['read_text of a system file', () => `SELECT * FROM read_text('/etc/shadow')`, /opens "\/etc\/shadow"; query has no file or network access/],
    ['read_csv of a system file', () => `SELECT * FROM read_csv('/etc/passwd', sep = ':')`, /\/etc\/passwd/],
    ['a replacement scan of a raw file', (c) => `SELECT * FROM '${c.lake}/raw/2015/03/08/06/w-1-3.ndjson'`, /raw/],
    ['a curated partition read as a file', (c) => `SELECT * FROM read_parquet('${c.partition}')`, /curated\/events\//],
    ['glob of the file system', () => `SELECT * FROM glob('/*')`, /\/\*/],
    ['network access', (c) => `SELECT * FROM read_csv('http://127.0.0.1:${c.port}/x.csv')`, /127\.0\.0\.1/],
    ['EXPORT DATABASE', (c) => `EXPORT DATABASE '${c.outside}/export'`, /export/],
    ['INSTALL an extension', () => 'INSTALL httpfs', /INSTALL/],
    ['LOAD an extension', () => 'LOAD httpfs', /LOAD/],
    ['SET a setting', () => 'SET enable_external_access = true', /SET/],
    ['RESET a setting', () => 'RESET lock_configuration', /SET|RESET/],
    ['SET VARIABLE', () => 'SET VARIABLE x = 1', /SET/],
    ['PRAGMA that changes state', () => 'PRAGMA enable_profiling', /PRAGMA/],
    ['CREATE TABLE', () => 'CREATE TABLE t AS SELECT 1', /CREATE/],
    ['CREATE MACRO', () => 'CREATE MACRO m() AS 1', /CREATE/],
    ['DROP a view', () => 'DROP VIEW events', /DROP/],
    ['INSERT into the snapshot', () => 'INSERT INTO curated_snapshot.events SELECT * FROM events', /INSERT|read-only/],
    ['DELETE from the snapshot', () => 'DELETE FROM curated_snapshot.hours', /DELETE|read-only/],
    ['DETACH the snapshot', () => 'DETACH curated_snapshot', /DETACH/],
    ['PREPARE a COPY', (c) => `PREPARE p AS COPY (SELECT 1) TO '${c.outside}/p.csv'`, /PREPARE|opens/],
    ['CALL with side effects', () => 'CALL enable_logging()', /CALL/],
    ['logging switched to a file by a SELECT', (c) => `SELECT * FROM enable_logging(storage := 'file', storage_path := '${c.outside}/log'); SELECT write_log('x', level := 'error')`, /log/],
    ['logging to a file built inside query()', (c) => `SELECT * FROM query('SELECT * FROM enable' || '_logging(storage := ''file'', storage_path := ''${c.lake}/curated/log'')')`, /logging|log/],
  ];

  it.each(attacks)('refuses %s with a one-line reason, and the lake and machine are untouched', async (_name, sql, reason) => {
    const before = fileTree(lake.dir);
    const error = await refusal(runQuery(lake.store, sql({ partition, outside, lake: lake.dir, port })));
    expect(error.message).toMatch(/^query refused: /);
    expect(error.message).toMatch(reason);
    expect(error.message).not.toContain('\n');
    expect(error.message).not.toMatch(/root:/);
    expect(fileTree(lake.dir)).toEqual(before);
    expect(readdirSync(outside)).toEqual([]);
    expect(requests).toBe(0);
  });

  it('leaves the curated partition as the ETL wrote it and the data as it was', async () => {
    const size = statSync(partition).size;
    await refusal(runQuery(lake.store, `COPY (SELECT * FROM events LIMIT 1) TO '${partition}' (FORMAT parquet)`));
    expect(statSync(partition).size).toBe(size);
    expect((await runQuery(lake.store, 'SELECT count(*) FROM events')).rows).toEqual([[5]]);
    const pending = await runEtl(lake.store);
    expect(pending.hours).toEqual([]);
  });

  it('the CLI prints the refusal on one line with a hint and exits 1', async () => {
    const run = await runCli(['query', '--lake', lake.dir, `COPY (SELECT 1) TO '${outside}/cli.csv'`]);
    expect(run.code).toBe(1);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^error: query refused: it opens ".*cli\.csv"; query has no file or network access/);
    expect(lines[1]).toMatch(/^hint: /);
    expect(lines).toHaveLength(2);
    expect(readdirSync(outside)).toEqual([]);
  });
});
