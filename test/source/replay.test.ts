import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { loadReplayFeed, parseCapture } from '../../src/source/replay.ts';
import { startSourceServer } from '../../src/source/server.ts';
import { readStream } from '../helpers/source-client.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempFile(name: string, content: string | Buffer): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oe-source-'));
  dirs.push(dir);
  const file = path.join(dir, name);
  await writeFile(file, content);
  return file;
}

const a = '{"id":"1","mtime":100,"name":"caf\u00e9 \\/ bar"}';
const b = '{"mtime":200,"id":"x2","name":"second"}';

describe('capture parsing', () => {
  it('skips a raw HTTP head, chunk-size lines, blank lines and CRLF framing, keeping record bytes exactly', () => {
    // Given a capture taken from the raw socket of a chunked response
    const capture = ['HTTP/1.1 200 OK', 'Content-Type: application/json', 'Transfer-Encoding: chunked', '', '3b', a, '', '2a', b, ''].join('\r\n');
    // When it is parsed
    const records = parseCapture(Buffer.from(capture));
    // Then only the two records remain, byte-for-byte, with their ids and mtimes
    expect(records.map((r) => r.bytes.toString('utf8'))).toEqual([a, b]);
    expect(records.map((r) => [r.id, r.mtime])).toEqual([
      ['1', 100],
      ['x2', 200],
    ]);
  });

  it('ignores a UTF-8 byte order mark before the first record', () => {
    const records = parseCapture(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${a}\n${b}\n`)]));
    expect(records.map((r) => r.bytes.toString('utf8'))).toEqual([a, b]);
  });

  it('drops a cut-off last line, with or without a trailing newline', () => {
    for (const tail of ['{"id":"3","mtime":30', '{"id":"3","mtime":30\n']) {
      expect(parseCapture(Buffer.from(`${a}\n${b}\n${tail}`)).map((r) => r.id)).toEqual(['1', 'x2']);
    }
  });

  it('keeps a bad line in the middle: the stream sent it, and the consumer must cope', () => {
    const records = parseCapture(Buffer.from(`${a}\n{"id":oops}\n${b}\n`));
    expect(records.map((r) => r.bytes.toString())).toEqual([a, '{"id":oops}', b]);
    expect(records[1]!.id).toBeUndefined();
  });

  it('names a missing capture in a UserError', async () => {
    await expect(loadReplayFeed(['/nonexistent/capture.ndjson'])).rejects.toThrow(UserError);
  });

  it('refuses a file with no records instead of serving an empty stream', async () => {
    const file = await tempFile('notes.txt', 'HTTP/1.1 200 OK\r\n\r\nnothing here\n');
    await expect(loadReplayFeed([file])).rejects.toThrow(/no records in capture .*notes\.txt/);
  });

  it('reads a gzipped capture, and one whose gzip was cut off mid-write up to the cut', async () => {
    // Given the same capture gzipped, and that gzip cut short
    const lines = Array.from({ length: 400 }, (_, i) => `{"id":"e${i}","mtime":${1000 + i},"pad":"${'x'.repeat(i % 97)}"}`);
    const whole = gzipSync(Buffer.from(lines.join('\n') + '\n'));
    const gz = await tempFile('whole.ndjson.gz', whole);
    const cut = await tempFile('cut.ndjson.gz', whole.subarray(0, Math.floor(whole.length * 0.6)));

    // When each is loaded as a replay feed
    const ids = async (file: string): Promise<string[]> => {
      const feed = await loadReplayFeed([file]);
      const out: string[] = [];
      for (let i = 0; feed.produce(); i++) out.push(feed.id(i)!);
      return out;
    };

    // Then the whole one serves every record, and the cut one a prefix of them, without the cut-off line
    expect(await ids(gz)).toEqual(lines.map((_, i) => `e${i}`));
    const prefix = await ids(cut);
    expect(prefix.length).toBeGreaterThan(100);
    expect(prefix.length).toBeLessThan(lines.length);
    expect(prefix).toEqual(lines.slice(0, prefix.length).map((_, i) => `e${i}`));
  });
});

describe('replay server', () => {
  it('serves several captures in order; a mid-file bad line is served as is and logged as such', async () => {
    // Given two captures, the first with a header and a bad line, the second cut off
    const first = await tempFile('one.ndjson', `HTTP/1.1 200 OK\r\n\r\n${a}\n{"id":oops}\n${a}\n`);
    const second = await tempFile('two.ndjson', `${b}\n{"id":"cut","mt`);
    const server = await startSourceServer({ replay: [first, second] });
    try {
      // When a client reads the stream
      const read = await readStream(server.url, { idleMs: 400 });
      // Then it gets the three lines as they are in the files, and the log tells events from the bad line
      expect(read.lines).toEqual([a, '{"id":oops}', a, b]);
      const log = server.log();
      expect(log.events.map((e) => [e.id, e.mtime])).toEqual([
        ['1', 100],
        ['1', 100],
        ['x2', 200],
      ]);
      expect(log.injected).toEqual([{ kind: 'capture', line: '{"id":oops}', connection: 1, after: 1 }]);
    } finally {
      await server.close();
    }
  });
});
