import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { importLines } from '../../src/lake/import.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { runCli } from '../helpers/cli.ts';
import { rawFiles, readQuarantine, readRawLines } from '../helpers/stream-lake.ts';
import { CAPTURE } from '../helpers/fixtures.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function temp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'oe-lake-'));
  dirs.push(d);
  return d;
}
const hourOf = (ms: number): string => new Date(ms).toISOString().slice(0, 13);

describe('openevents lake import / ls', () => {
  it('imports the real capture by mtime hour, closes the past hours, lists them, and a re-import replaces instead of duplicating', async () => {
    // Given the capture's complete records, counted per mtime hour independently
    const records = (await readFile(CAPTURE, 'utf8'))
      .split('\n')
      .filter((l) => l !== '')
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as { id: string; mtime: number }];
        } catch {
          return []; // the cut-off last line
        }
      });
    const perHour = new Map<string, number>();
    for (const r of records) perHour.set(hourOf(r.mtime), (perHour.get(hourOf(r.mtime)) ?? 0) + 1);
    const lake = await temp();

    // When it is imported twice
    for (let i = 0; i < 2; i++) {
      const out = await runCli(['lake', 'import', CAPTURE, '--lake', lake, '--partition-by', 'mtime', '--json']);
      expect(out.code, out.stderr).toBe(0);
      const [result] = JSON.parse(out.stdout) as Array<{ records: number; skipped: { cutOff: number }; quarantined: number }>;
      expect(result).toMatchObject({ records: records.length, quarantined: 0, skipped: { cutOff: 1 } });
    }

    // Then the lake holds each record once, in its mtime hour, byte-for-byte
    const lines = await readRawLines(lake);
    expect(lines.length).toBe(records.length);
    for (const l of lines) expect(l.file).toContain(`/raw/${hourOf(l.mtime).replace(/-|T/g, '/')}/`);
    const captureLines = new Set((await readFile(CAPTURE, 'utf8')).split('\n'));
    for (const l of lines) expect(captureLines.has(l.line)).toBe(true);

    // And `lake ls --json` lists every hour as closed with its record count
    const ls = await runCli(['lake', 'ls', '--lake', lake, '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    const hours = JSON.parse(ls.stdout) as Array<{ hour: string; records: number; files: number; closed: boolean }>;
    expect(new Map(hours.map((h) => [h.hour, h.records]))).toEqual(perHour);
    expect(hours.every((h) => h.closed && h.files === 1)).toBe(true);
    const table = await runCli(['lake', 'ls', '--lake', lake]);
    expect(table.stdout).toMatch(new RegExp(`${perHour.size} hours, ${perHour.size} files, ${records.length} records`));
  });

  it('imports a Firehose bucket copy: records back to back with or without newlines, gzipped or not, into the folder hour', async () => {
    // Given a bucket copy with two hour folders; objects hold JSON records written back to back
    const bucket = await temp();
    const rec = (id: string, extra = ''): string => `{"id":"${id}","mtime":1492578000000${extra}}`;
    const h1 = path.join(bucket, '2017/04/19/05');
    const h2 = path.join(bucket, '2017/04/19/06');
    await mkdir(h1, { recursive: true });
    await mkdir(h2, { recursive: true });
    await writeFile(path.join(h1, 'firehose-1-2017-04-19-05-00-00'), rec('a') + rec('b', ',"name":"has }{ inside"') + rec('c'));
    await writeFile(path.join(h1, 'firehose-2.gz'), gzipSync(Buffer.from(`${rec('d')}\n${rec('e')} ${rec('f')}\n`)));
    await writeFile(path.join(h2, 'firehose-3'), `${rec('g')}{"broken":\n${rec('h')}`);
    await writeFile(path.join(h2, 'firehose-4'), `${rec('i')}junk${rec('j')}${rec('k')}`);
    await writeFile(path.join(h2, '_SUCCESS'), '');
    const lake = await temp();

    // When the bucket folder is imported by arrival
    const out = await runCli(['lake', 'import', bucket, '--lake', lake, '--json']);
    expect(out.code, out.stderr).toBe(0);

    // Then each record lands in the hour of the folder it came from, one per line, and the broken one is quarantined
    const lines = await readRawLines(lake);
    const byHour = (h: string) => lines.filter((l) => l.file.includes(`/raw/${h}/`)).map((l) => l.id).sort();
    expect(byHour('2017/04/19/05')).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(byHour('2017/04/19/06')).toEqual(['g', 'h', 'i', 'j', 'k']);
    expect(lines.find((l) => l.id === 'b')?.line).toBe(rec('b', ',"name":"has }{ inside"'));
    // (stray text between records is quarantined on its own, as the ETL frames it)
    const q = await readQuarantine(lake);
    expect(q.map((e) => e.bytes).sort()).toEqual(['junk', '{"broken":']);
    expect(q.find((e) => e.bytes === '{"broken":')?.reason).toMatch(/^truncated record/);
    expect(q.find((e) => e.bytes === 'junk')?.reason).toMatch(/^malformed JSON/);
  });

  it('skips HTTP header lines and the cut-off last line, quarantines bad lines with the reason, and replaces a re-import made in another hour', async () => {
    const lake = await temp();
    const store = new LocalStore(lake);
    const lines = ['HTTP/1.1 200 OK', 'Content-Type: application/json', '', '{"id":"x1","mtime":1000}', '{"id":7,"mtime":2000}', 'garbage', '{"id":"x2","mtime":3000}', '{"id":"x3","mt'];
    const t1 = Date.parse('2026-11-28T03:10:00Z');
    const t2 = Date.parse('2026-11-28T05:10:00Z');

    // When the same lines are imported by arrival at two different times
    const first = await importLines(store, lines, { partitionBy: 'arrival', writer: 'demo-history', now: t1 });
    const second = await importLines(store, lines, { partitionBy: 'arrival', writer: 'demo-history', now: t2 });

    // Then headers and the cut-off line are skipped, the two bad lines quarantined with reasons
    expect(second).toMatchObject({ records: 2, quarantined: 2, skipped: { headers: 2, cutOff: 1, blank: 1 }, hours: ['2026-11-28T05'] });
    const q = await readQuarantine(lake);
    expect(q.map((e) => [e.bytes, e.reason.split(':')[0]])).toEqual([
      ['{"id":7,"mtime":2000}', 'unusable id'],
      ['garbage', 'malformed JSON'],
    ]);
    // And the second import replaced the first one's objects (now in another hour) instead of duplicating them
    expect(second.removed.sort()).toEqual([...first.objects, ...first.quarantineObjects].sort());
    const files = await rawFiles(lake);
    expect(files.map((f) => path.relative(lake, f))).toEqual(['raw/2026/11/28/05/demo-history-1-2.ndjson.gz']);
    // And the earlier hour, now empty, was re-closed with an empty manifest
    const manifest = JSON.parse(await readFile(path.join(lake, 'raw/2026/11/28/03/_manifest.json'), 'utf8')) as { records: number };
    expect(manifest.records).toBe(0);
  });
});
