import { execFileSync } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEtl, type EtlResult } from '../../src/etl/run.ts';
import { computeStats, type Stats } from '../../src/etl/stats.ts';
import { captureLines, repeatedRealRecords, sparseHours, tempLake, writeRawObject, writeSpread } from '../helpers/etl-lake.ts';
import { H1, H2, writeEdgeLake } from '../helpers/etl-fixtures.ts';
import { dumpTables } from '../helpers/etl-tables.ts';
import { ROOT } from '../helpers/moto.ts';
import { describeWith, itWith } from '../helpers/requires.ts';

const PYTHON = path.join(ROOT, '.venv/bin/python');
const SPREAD = sparseHours('2015-04-20T02', 30, 61);
const CORRUPT = '2015-03-09T11';

describeWith(['java', 'venv'], 'engine parity: DuckDB and spark-submit run the same SQL on the same raw hours', () => {
  let duck: Awaited<ReturnType<typeof tempLake>>;
  let spark: Awaited<ReturnType<typeof tempLake>>;
  let sparkRun: EtlResult;

  beforeAll(async () => {
    // Given two lakes with the same raw hours: the edge cases plus 150 real records in two hours,
    // 300 more real records over 30 sparse hours of three months, and an hour whose gzip is cut short
    duck = await tempLake();
    spark = await tempLake();
    for (const lake of [duck, spark]) {
      await writeEdgeLake(lake.store);
      const lines = captureLines().slice(0, 150);
      await writeRawObject(lake.store, H1, 'real-1-75.ndjson.gz', gzipSync(lines.slice(0, 75).join('\n') + '\n'));
      await writeRawObject(lake.store, H2, 'real-76-150.ndjson', lines.slice(75).join('\n') + '\n');
      await writeSpread(lake.store, repeatedRealRecords(300, { ids: 250 }), SPREAD);
      await writeRawObject(lake.store, CORRUPT, 'cut-1-3.ndjson.gz', gzipSync(lines.slice(0, 3).join('\n') + '\n').subarray(0, -8));
    }
    // When each engine processes all hours, in passes of at most 100 records
    const duckRun = await runEtl(duck.store, { select: { all: true }, engine: 'duckdb', batchRecords: 100 });
    expect(duckRun.failed).toEqual([CORRUPT]);
    sparkRun = await runEtl(spark.store, { select: { all: true }, engine: 'spark', batchRecords: 100 });
  }, 1_800_000);
  afterAll(async () => {
    await duck?.cleanup();
    await spark?.cleanup();
  });

  it('records the Spark run in the ETL state like the DuckDB one; the corrupt hour fails alone, named', () => {
    expect(sparkRun.batches).toBeGreaterThan(3);
    expect(sparkRun.failed).toEqual([CORRUPT]);
    expect(sparkRun.states.find((s) => s.hour === CORRUPT)?.error).toMatch(/^raw\/.*cut-1-3\.ndjson\.gz cannot be read: /);
    expect(sparkRun.states.filter((s) => s.status === 'done').map((s) => [s.hour, s.engine])).toEqual(
      [H1, H2, ...SPREAD].sort().map((h) => [h, 'spark']),
    );
  });

  it('writes identical tables (canonical sort)', async () => {
    const a = await dumpTables(duck.dir);
    const b = await dumpTables(spark.dir);
    for (const table of Object.keys(a)) expect({ table, rows: b[table] }).toEqual({ table, rows: a[table] });
    expect(a.events?.length).toBeGreaterThan(50);
  });

  it('gives the same stats', async () => {
    const strip = (s: Stats): unknown => ({ ...s, generatedAt: undefined, freshness: undefined });
    expect(strip(await computeStats(spark.store))).toEqual(strip(await computeStats(duck.store)));
  });
});

describe('one definition, two implementations of the dialect layer and the framing', () => {
  itWith(['venv'], 'expands every SQL file identically in TypeScript and Python, for both dialects', async () => {
    const { loadSteps } = await import('../../src/etl/dialect.ts');
    for (const dialect of ['duckdb', 'spark'] as const) {
      const params = { processed_at: "2026-01-01 00:00:00'x" };
      const py = JSON.parse(execFileSync(PYTHON, [path.join(ROOT, 'spark/jobs/sqlgen.py'), dialect, JSON.stringify(params)], { encoding: 'utf8' })) as unknown;
      expect(py).toEqual(loadSteps(dialect, params));
    }
  });

  it('keeps macros.json generated from macros.src.mjs', () => {
    const generated = execFileSync(process.execPath, [path.join(ROOT, 'src/etl/sql/macros.src.mjs')], { encoding: 'utf8' });
    expect(generated).toBe(readFileSync(path.join(ROOT, 'src/etl/sql/macros.json'), 'utf8'));
  });

  itWith(['venv'], 'frames raw objects into the same records in TypeScript and Python', async () => {
    const { frameRecords, countRecords } = await import('../../src/lake/records.ts');
    const dir = await fs.mkdtemp(path.join((await import('node:os')).tmpdir(), 'oe-frame-'));
    try {
      const samples: Record<string, Uint8Array> = {
        crlf: Buffer.from('\ufeff{"a":1}\r\n\r\n  \n{"b":"x}{y"}\r\n'),
        firehose: Buffer.from('{"a":{"b":[1,{"c":"}{"}]}}{"d":"\\"}"} {"e":1}junk{"f":'),
        gzip: gzipSync('{"a":1}\n{"a":2}{"a":3}\n'),
        unbalanced: Buffer.from('{"a":1}}{"b":2}\n'),
        invalid_utf8: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]),
        stray: Buffer.from(' x {"a":1} y {"b":2}{"c":4} [3]\n{"e":1} z\n\u00a0\n\ufeff{"d":5}\n\t\r\n'),
        cut_multibyte: Buffer.concat([Buffer.from('{"a":"caf'), Buffer.from([0xc3]), Buffer.from('"}{"b":"\u00e9'), Buffer.from([0xe2, 0x82]), Buffer.from('\n')]),
      };
      const expected: Record<string, string[]> = {};
      for (const [name, bytes] of Object.entries(samples)) {
        await fs.writeFile(path.join(dir, name), bytes);
        expected[name] = frameRecords(bytes);
      }
      const script = `import json, os, sys\nsys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'spark'))})\nfrom jobs.framing import frame_records\nd = sys.argv[1]\nprint(json.dumps({n: frame_records(open(os.path.join(d, n), 'rb').read()) for n in sorted(os.listdir(d))}))`;
      const py = JSON.parse(execFileSync(PYTHON, ['-c', script, dir], { encoding: 'utf8' })) as unknown;
      expect(py).toEqual(expected);
      // And the framing itself is right, not just the same.
      expect(expected.firehose).toEqual(['{"a":{"b":[1,{"c":"}{"}]}}', '{"d":"\\"}"}', '{"e":1}', 'junk', '{"f":']);
      expect(expected.crlf).toEqual(['{"a":1}', '{"b":"x}{y"}']);
      expect(expected.gzip).toEqual(['{"a":1}', '{"a":2}', '{"a":3}']);
      // In a line with values back to back, stray text is a record of its own (a line without
      // "}{" stays whole); only JSON whitespace is blank.
      expect(expected.stray).toEqual(['x', '{"a":1}', 'y', '{"b":2}', '{"c":4}', '[3]', '{"e":1} z', '\u00a0', '\ufeff{"d":5}']);
      // The streamer, import and manifests count the same records the ETL frames.
      for (const [name, bytes] of Object.entries(samples)) expect(await countRecords(bytes), name).toBe(expected[name]!.length);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

