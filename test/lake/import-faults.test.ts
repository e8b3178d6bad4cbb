import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { importLines } from '../../src/lake/import.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { runCli } from '../helpers/cli.ts';
import { readQuarantine, readRawLines } from '../helpers/stream-lake.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function temp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'oe-import-'));
  dirs.push(d);
  return d;
}

const BOM = '\uFEFF';
const record = (id: string, mtime: number): string => JSON.stringify({ id, mtime, name: `event ${id}` });

describe('lake import: byte order marks and damaged files', () => {
  it('a BOM at the start of a file (or of a file concatenated onto another) is not part of the first record', async () => {
    // Given a capture saved by a Windows editor (BOM, CRLF) with a second export appended to it
    const lake = await temp();
    const lines = [record('a', 1), record('b', 2), record('c', 3), record('d', 4)];
    const text = BOM + lines.slice(0, 2).join('\r\n') + '\r\n' + BOM + lines.slice(2).join('\r\n') + '\r\n';
    const result = await importLines(new LocalStore(lake), text.split('\n'), { partitionBy: 'arrival', writer: 'bom', now: Date.parse('2015-03-08T08:00:00Z') });
    // Then every record lands, byte-for-byte without the mark, and none is quarantined
    expect(result).toMatchObject({ records: 4, quarantined: 0 });
    expect((await readRawLines(lake)).map((l) => l.line)).toEqual(lines);
    expect(await readQuarantine(lake)).toEqual([]);
  });

  it('a truncated or corrupt .gz is named, the files after it are still imported, and the command exits 1', async () => {
    // Given three captures in order: a good one, one cut off mid-copy, a corrupt one, and another good one
    const inputs = await temp();
    const lake = await temp();
    const good1 = [record('g1', 1), record('g2', 2)];
    const cut = Array.from({ length: 2000 }, (_, i) => record(`t${i}`, i));
    const good2 = [record('h1', 3)];
    const full = gzipSync(cut.join('\n') + '\n');
    await writeFile(path.join(inputs, '1-good.ndjson.gz'), gzipSync(good1.join('\n') + '\n'));
    await writeFile(path.join(inputs, '2-cut.ndjson.gz'), full.subarray(0, Math.floor(full.length / 2)));
    await writeFile(path.join(inputs, '3-corrupt.ndjson.gz'), Buffer.concat([full.subarray(0, 10), Buffer.alloc(200, 0x55)]));
    await writeFile(path.join(inputs, '4-good.ndjson'), good2.join('\n') + '\n');

    const run = await runCli(['lake', 'import', inputs, '--lake', lake, '--json']);

    // Then the good files are in the lake, nothing of the damaged ones, and both are named
    expect(run.code).toBe(1);
    expect((await readRawLines(lake)).map((l) => l.id).sort()).toEqual(['g1', 'g2', 'h1']);
    const results = JSON.parse(run.stdout) as Array<{ source: string; records: number; error?: string }>;
    expect(results.map((r) => [path.basename(r.source), r.records, r.error ?? null])).toEqual([
      ['1-good.ndjson.gz', 2, null],
      ['2-cut.ndjson.gz', 0, expect.stringMatching(/^truncated gzip/)],
      ['3-corrupt.ndjson.gz', 0, expect.stringMatching(/^corrupt gzip/)],
      ['4-good.ndjson', 1, null],
    ]);
    expect(run.stderr).toMatch(/error: 2 of 4 files could not be imported: .*2-cut\.ndjson\.gz \(truncated gzip[^)]*\), .*3-corrupt\.ndjson\.gz \(corrupt gzip/);
    expect(run.stderr).toMatch(/hint: the other files were imported/);
    expect(run.stderr).not.toMatch(/hit a bug|\n\s+at /);

    // And the text output names the damaged file too
    const text = await runCli(['lake', 'import', path.join(inputs, '2-cut.ndjson.gz'), '--lake', lake]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/2-cut\.ndjson\.gz: not imported: truncated gzip/);
  });
});
