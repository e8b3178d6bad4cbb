import { promises as fs } from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../../errors.ts';
import { frameRecords } from '../../lake/records.ts';
import type { HourId } from '../../lake/layout.ts';
import { loadSteps } from '../dialect.ts';
import { copyTableFile, openDuck, quoteIdent, sqlList, sqlString } from '../duck.ts';
import type { BatchResult, Engine, EngineBatch, EngineContext, EngineSegment, HourCounts, RawInput } from '../engine.ts';
import { dropInputCopies, localInputs } from '../inputs.ts';
import { CURATED_TABLES, type CuratedTable } from '../tables.ts';

/**
 * The embedded engine: one in-memory DuckDB per batch. Raw objects (an s3:// lake's through the
 * object cache, `localInputs`) are framed in this process
 * (src/lake/records.ts) and appended; the SQL steps run over the whole batch at once; each
 * table is written as one file per unit. An object that cannot be read or framed (a corrupt
 * gzip) fails its hour only: the hour's records are dropped from the batch before the SQL runs.
 */
export class DuckdbEngine implements Engine {
  readonly name = 'duckdb' as const;

  async run(batches: readonly EngineBatch[], context: EngineContext, done: (batch: EngineBatch, result: BatchResult) => Promise<void>): Promise<void> {
    for (const batch of batches) {
      if (context.signal?.aborted) return;
      let result: BatchResult;
      try {
        result = await runBatch(batch, context);
      } catch (error) {
        result = { ok: false, error: errorMessage(error) };
      }
      await done(batch, result);
    }
  }
}

/** Reads a raw object from its local file (undefined when there is none: the object is gone). */
async function readRawInput(input: RawInput): Promise<Uint8Array | undefined> {
  if (!input.path) return undefined;
  return fs.readFile(input.path).catch((error: unknown) => ((error as { code?: string }).code === 'ENOENT' ? undefined : Promise.reject(error)));
}

async function runBatch(batch: EngineBatch, context: EngineContext): Promise<BatchResult> {
  const dir = path.join(context.scratch, `batch-${batch.index}`);
  await fs.mkdir(path.join(dir, 'tmp'), { recursive: true });
  const duck = await openDuck({ tempDir: path.join(dir, 'tmp') });
  const { connection } = duck;
  try {
    const failed = new Map<HourId, string>();
    await connection.run(`CREATE TABLE raw_records (arrival_hour VARCHAR, source_key VARCHAR, line_no BIGINT, raw VARCHAR)`);
    const appender = await connection.createAppender('raw_records');
    let records = 0;
    const inputs = await localInputs(context.store, batch.inputs);
    try {
      for (const input of inputs) {
        if (failed.has(input.hour)) continue;
        let framed: string[];
        try {
          const bytes = await readRawInput(input);
          if (!bytes) throw new Error('the object disappeared during the run');
          framed = frameRecords(bytes);
        } catch (error) {
          failed.set(input.hour, `${input.key} cannot be read: ${errorMessage(error)}`);
          continue;
        }
        for (let i = 0; i < framed.length; i++) {
          appender.appendVarchar(input.hour);
          appender.appendVarchar(input.key);
          appender.appendBigInt(BigInt(i + 1));
          appender.appendVarchar(framed[i] as string);
          appender.endRow();
        }
        records += framed.length;
        context.onRecords?.(batch, records);
      }
    } finally {
      await dropInputCopies(context.store, inputs);
    }
    appender.closeSync();
    const hours = batch.hours.filter((h) => !failed.has(h));
    if (failed.size > 0) await connection.run(`DELETE FROM raw_records WHERE arrival_hour IN ${sqlList([...failed.keys()])}`);
    const result: BatchResult = { ok: true, hours: new Map([...failed].map(([h, error]) => [h, { error }])), segments: [] };
    if (hours.length === 0) return result;

    await connection.run(`CREATE TABLE etl_hours AS SELECT unnest([${hours.map(sqlString).join(', ')}]::VARCHAR[]) AS arrival_hour`);
    for (const step of loadSteps('duckdb', { processed_at: batch.processedAt.toISOString().replace('T', ' ').replace('Z', '') })) {
      // Outputs are materialised too: each is written once per unit.
      await connection.run(`CREATE TABLE ${quoteIdent(step.output ? `out_${step.name}` : step.name)} AS ${step.sql}`);
    }
    const counts = await connection.runAndReadAll(
      `SELECT arrival_hour, CAST(raw_records AS DOUBLE) AS raw, CAST(valid_records AS DOUBLE) AS valid, CAST(quarantined AS DOUBLE) AS quarantined FROM out_hours`,
    );
    for (const row of counts.getRowObjectsJson()) {
      result.hours.set(String(row.arrival_hour), { raw: Number(row.raw), valid: Number(row.valid), quarantined: Number(row.quarantined) } satisfies HourCounts);
    }
    const byUnit = new Map<string, HourId[]>();
    for (const h of hours) byUnit.set(batch.units[h] as string, [...(byUnit.get(batch.units[h] as string) ?? []), h]);
    for (const [unit, unitHours] of byUnit) {
      const segment: EngineSegment = { unit, hours: unitHours, files: {} };
      for (const table of CURATED_TABLES) {
        const file = path.join(dir, `${table}-${unit}.parquet`);
        const rows = await copyTableFile(connection, table, `SELECT * FROM out_${table} WHERE arrival_hour IN ${sqlList(unitHours)}`, file);
        if (rows > 0) segment.files[table as CuratedTable] = { file, rows };
        else await fs.rm(file, { force: true });
      }
      result.segments.push(segment);
    }
    return result;
  } finally {
    duck.close();
  }
}
