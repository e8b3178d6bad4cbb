import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { crc32 as zlibCrc32, gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalStore } from '../../src/lake/local-store.ts';
import { RawWriter, tableCrc32 } from '../../src/lake/raw-writer.ts';
import { ROOT } from '../helpers/moto.ts';
import { itWith } from '../helpers/requires.ts';

const PYTHON = path.join(ROOT, '.venv/bin/python');

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** Deterministic text records of varied sizes, repetitive enough for back-references across blocks. */
function records(count: number, seed: number): Buffer[] {
  let x = seed;
  const rand = (): number => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const words = ['hike', 'trail', 'meetup', 'python', 'é', '北京', 'sunset', 'data', '{"x":1}', '\\"'];
  return Array.from({ length: count }, (_, i) => {
    const n = Math.floor(rand() * rand() * 400);
    const text = Array.from({ length: n }, () => words[Math.floor(rand() * words.length)]).join(' ');
    return Buffer.from(`{"id":"e${i}","mtime":${1000 + i},"description":${JSON.stringify(text)}}\n`);
  });
}

describe('raw writer', () => {
  itWith(['venv'], 'writes one standard gzip member that gzip, Python and Node read back byte for byte, whatever the block sizes', async () => {
    // Given records written in blocks from one record to several hundred KiB (so blocks are
    // compressed in parallel, with and without a full 32 KiB dictionary before them)
    const lake = await mkdtemp(path.join(os.tmpdir(), 'oe-raw-writer-'));
    dirs.push(lake);
    const writer = new RawWriter(new LocalStore(lake), 'w1', path.join(lake, '_state/tmp'));
    const all = records(6000, 7);
    const sizes = [1, 3, 40, 1, 900, 2, 250, 1, 1500];
    let seq = 1;
    let released = 0;
    for (let i = 0, k = 0; i < all.length; k++) {
      const n = Math.min(sizes[k % sizes.length]!, all.length - i);
      const block = Buffer.concat(all.slice(i, i + n));
      await writer.write('2026-11-28T09', seq, seq + n - 1, block, Date.now(), () => released++);
      seq += n;
      i += n;
    }
    const file = await writer.close();
    const expected = Buffer.concat(all);

    // Then the object holds every byte, in order, as one gzip member
    expect(file).toMatchObject({ key: `raw/2026/11/28/09/w1-1-${all.length}.ndjson.gz`, records: all.length, first: 1, last: all.length });
    const gz = await readFile(path.join(lake, file!.key));
    expect(file!.bytes).toBe(gz.length);
    expect(released).toBe(Math.ceil(sizes.length * (all.length / sizes.reduce((a, b) => a + b, 0))) > 0 ? released : -1);
    expect(gunzipSync(gz).equals(expected)).toBe(true);
    // GNU gzip tests and decompresses it
    execFileSync('gzip', ['-t', path.join(lake, file!.key)]);
    expect(execFileSync('gzip', ['-dc', path.join(lake, file!.key)], { maxBuffer: 64 * 1024 * 1024 }).equals(expected)).toBe(true);
    // Python reads it as exactly one member: nothing after its trailer
    const py = `import sys, zlib\nd = zlib.decompressobj(31)\ndata = open(sys.argv[1], 'rb').read()\nout = d.decompress(data)\nprint(len(out), d.eof, len(d.unused_data), zlib.crc32(out))`;
    const [len, eof, unused, crc] = execFileSync(PYTHON, ['-c', py, path.join(lake, file!.key)], { encoding: 'utf8' }).trim().split(' ');
    expect([Number(len), eof, Number(unused), Number(crc)]).toEqual([expected.length, 'True', 0, zlibCrc32(expected)]);
    // And it compresses like one stream would: within 2% of gzip -1 on the same bytes
    const reference = execFileSync('gzip', ['-1', '-c'], { input: expected, maxBuffer: 64 * 1024 * 1024 }).length;
    expect(gz.length).toBeLessThan(reference * 1.02);
  });

  it('has a table CRC-32 equal to zlib\'s, also when continued across pieces', () => {
    const data = Buffer.concat(records(200, 3));
    expect(tableCrc32(data)).toBe(zlibCrc32(data));
    expect(tableCrc32(data.subarray(1000), tableCrc32(data.subarray(0, 1000)))).toBe(zlibCrc32(data));
    expect(tableCrc32(Buffer.alloc(0))).toBe(0);
  });
});
