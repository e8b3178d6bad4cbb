import { describe, expect, it } from 'vitest';
import { LineFramer, isOversized, type Framed } from '../../src/stream/framing.ts';

function frameAll(chunks: Buffer[], max = 1024, keep = 16): { lines: Framed[]; rest: Framed | undefined } {
  const framer = new LineFramer(max, keep);
  const lines: Framed[] = [];
  for (const chunk of chunks) framer.push(chunk, lines);
  return { lines, rest: framer.end() };
}

/** Splits `bytes` into chunks at the given offsets. */
function cut(bytes: Buffer, ...at: number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const to of at) {
    out.push(bytes.subarray(from, to));
    from = to;
  }
  out.push(bytes.subarray(from));
  return out;
}

describe('LineFramer', () => {
  it('gives back every line byte-for-byte whatever the chunk boundaries, including inside a multi-byte character', () => {
    // Given three records, one with 2-, 3- and 4-byte UTF-8 characters, ended by \n and \r\n
    const lines = ['{"id":"a","name":"Zürich – 東京 🎉"}', '{"id":"b"}', '{"id":"c","x":"ü"}'];
    const bytes = Buffer.from(`${lines[0]}\r\n${lines[1]}\n${lines[2]}\n`);
    // When the stream is cut at every possible pair of offsets
    for (let i = 1; i < bytes.length; i++) {
      for (const j of [i + 1, i + 3, bytes.length - 1]) {
        if (j <= i || j >= bytes.length) continue;
        const { lines: got, rest } = frameAll(cut(bytes, i, j));
        // Then the framed lines are exactly the records (without \r), and nothing is left over
        expect(got.map((l) => (l as Buffer).toString('utf8'))).toEqual(lines);
        expect(rest).toBeUndefined();
      }
    }
  });

  it('returns an unterminated last line on end() and then starts afresh', () => {
    const framer = new LineFramer(1024);
    const got = framer.push(Buffer.from('{"a":1}\n{"b":'));
    expect(got.map(String)).toEqual(['{"a":1}']);
    expect(String(framer.end())).toBe('{"b":');
    expect(framer.end()).toBeUndefined();
    expect(framer.push(Buffer.from('{"c":3}\n')).map(String)).toEqual(['{"c":3}']);
  });

  it('reports an oversized line with its head and full length without buffering it, then frames the next line', () => {
    // Given a limit of 100 bytes and a 10,000-byte line arriving in 7-byte chunks
    const big = 'x'.repeat(10_000);
    const bytes = Buffer.from(`{"ok":1}\n${big}\r\n{"ok":2}\n`);
    const framer = new LineFramer(100, 16);
    const out: Framed[] = [];
    let maxPending = 0;
    for (let i = 0; i < bytes.length; i += 7) {
      framer.push(bytes.subarray(i, i + 7), out);
      maxPending = Math.max(maxPending, framer.pendingBytes);
    }
    // Then the big line comes out as oversized, with its head and true length (without \r)
    expect(out).toHaveLength(3);
    const over = out[1]!;
    expect(isOversized(over)).toBe(true);
    if (isOversized(over)) {
      expect(over.length).toBe(10_000);
      expect(over.head.toString()).toBe('x'.repeat(16));
    }
    expect(out.filter((l) => !isOversized(l)).map(String)).toEqual(['{"ok":1}', '{"ok":2}']);
    // And the framer never held more than the limit plus one chunk
    expect(maxPending).toBeLessThanOrEqual(107);
  });

  it('flags a line of exactly limit+1 bytes arriving in one chunk, and accepts one of exactly the limit', () => {
    const framer = new LineFramer(10);
    const out = framer.push(Buffer.from(`${'a'.repeat(10)}\n${'b'.repeat(11)}\n`));
    expect(isOversized(out[0]!)).toBe(false);
    expect(isOversized(out[1]!)).toBe(true);
  });
});
