import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isLineOf, validateLine } from '../../src/stream/contract.ts';
import { CAPTURE } from '../helpers/fixtures.ts';

const v = (text: string, max = 1024 * 1024) => validateLine(Buffer.from(text), max);

describe('validateLine', () => {
  it('accepts every complete record of the real capture and rejects its cut-off last line as truncated', () => {
    // Given the capture's lines (the last one is cut off mid-record)
    const lines = readFileSync(CAPTURE, 'utf8').split('\n').filter((l) => l.length > 0);
    const results = lines.map((l) => v(l));
    // Then all but the last are valid, keyed by their own id and mtime
    for (let i = 0; i < lines.length - 1; i++) {
      const parsed = JSON.parse(lines[i]!) as { id: string; mtime: number };
      expect(results[i]).toMatchObject({ kind: 'valid', id: parsed.id, mtime: parsed.mtime });
    }
    expect(results.at(-1)).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/^truncated record/) });
  });

  it('keeps unknown fields out of its way: only id and mtime matter', () => {
    expect(v('{"mtime":5,"zzz":[1,{"id":3}],"id":"x1"}')).toMatchObject({ kind: 'valid', id: 'x1', mtime: 5 });
  });

  it.each([
    ['{"name":"no id","mtime":1}', /^unusable id: missing/],
    ['{"id":123,"mtime":1}', /^unusable id: a number/],
    ['{"id":"","mtime":1}', /^unusable id: empty/],
    ['{"id":"a"}', /^unusable mtime: missing/],
    ['{"id":"a","mtime":"yesterday"}', /^unusable mtime/],
    ['{"id":"a","mtime":1.5}', /^unusable mtime/],
    ['{"id":"a","mtime":-3}', /^unusable mtime/],
    ['{"id":"a","mtime":1e400}', /^unusable mtime/],
    ['[]', /^not a JSON object \(array\)/],
    ['null', /^not a JSON object \(null\)/],
    ['not json at all', /^malformed JSON/],
    ["{'id':'a','mtime':1}", /^malformed JSON/],
    ['{"id":"a","mtime":1}} trailing', /^malformed JSON/],
    ['{"id":"a","mtime":14257', /^truncated record/],
    ['{"id":"a","name":"cut in a str', /^truncated record/],
  ])('rejects %s with a reason', (line, reason) => {
    const got = v(line);
    expect(got.kind).toBe('invalid');
    if (got.kind === 'invalid') expect(got.reason).toMatch(reason);
  });

  it('rejects invalid UTF-8 and oversized lines, and treats blank lines as keep-alives', () => {
    expect(validateLine(Buffer.from([0x7b, 0xff, 0x7d]), 100)).toEqual({ kind: 'invalid', reason: 'invalid UTF-8' });
    expect(v('{"id":"a","mtime":1}', 10)).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/^oversized record: 20 bytes > 10/) });
    expect(v('   ')).toEqual({ kind: 'blank' });
    expect(v('')).toEqual({ kind: 'blank' });
  });
});

describe('isLineOf (a re-sent position checked without the full scan)', () => {
  const lines = readFileSync(CAPTURE, 'utf8').split('\n').filter((l) => l.length > 0).slice(0, -1);
  const records = lines.map((l) => ({ line: Buffer.from(l), ...(JSON.parse(l) as { id: string; mtime: number }) }));
  /** What the streamer remembers of a record's line: its length, and where the scan found its id and mtime. */
  const shapeOf = (line: Buffer) => {
    const v = validateLine(line, 1024 * 1024);
    if (v.kind !== 'valid' || v.idAt === undefined || v.mtimeAt === undefined) throw new Error(`not scanned: ${line.toString()}`);
    return { length: line.length, id: v.id, mtime: v.mtime, idAt: v.idAt, mtimeAt: v.mtimeAt };
  };

  it('the scan says where each real record keeps its id and mtime', () => {
    for (const r of records) {
      const shape = shapeOf(r.line);
      const text = r.line.toString('latin1');
      // (offsets in bytes: the capture holds non-ASCII text before some ids)
      expect(text.slice(shape.idAt - 6, shape.idAt + Buffer.byteLength(r.id))).toBe(`"id":"${Buffer.from(r.id).toString('latin1')}`);
      expect(text.slice(shape.mtimeAt - 8, shape.mtimeAt + String(r.mtime).length)).toBe(`"mtime":${r.mtime}`);
    }
  });

  it("knows every real record's line by its shape, and no other record's line", () => {
    for (const [i, r] of records.entries()) {
      const shape = shapeOf(r.line);
      expect(isLineOf(r.line, shape)).toBe(true);
      // the next different record of the capture (another event, or another version of this one)
      const other = records.slice(i + 1).find((o) => o.id !== r.id || o.mtime !== r.mtime);
      if (other) expect(isLineOf(other.line, shape)).toBe(false);
    }
  });

  it('answers false, so the line is scanned as usual, for anything that is not exactly that line', () => {
    const line = Buffer.from('{"id":"ab1","mtime":1425793345907,"name":"xy"}');
    const shape = shapeOf(line);
    expect(shape).toMatchObject({ idAt: 7, mtimeAt: 20 });
    expect(isLineOf(line, shape)).toBe(true);
    // another length (a new version, a damaged copy)
    expect(isLineOf(line, { ...shape, length: line.length + 1 })).toBe(false);
    // an mtime that runs on past the one expected (same length), or stops short of it
    expect(isLineOf(Buffer.from('{"id":"ab1","mtime":14257933459070,"name":"x"}'), shape)).toBe(false);
    expect(isLineOf(line, { ...shape, mtime: 142579334590 })).toBe(false);
    expect(isLineOf(Buffer.from('{"id":"ab1","mtime":1425793345907.5,"name":""}'), shape)).toBe(false);
    // another id, an id that only starts like it or runs on, one spelled with a space before it
    expect(isLineOf(Buffer.from('{"id":"ab2","mtime":1425793345907,"name":"xy"}'), shape)).toBe(false);
    expect(isLineOf(line, { ...shape, id: 'ab' })).toBe(false);
    expect(isLineOf(Buffer.from('{"id":"ab12","mtime":1425793345907,"name":"x"}'), shape)).toBe(false);
    expect(isLineOf(Buffer.from('{"id": "ab1","mtime":1425793345907,"name":"x"}'), shape)).toBe(false);
    // nothing known of where the values are (a line JSON.parse had to read): never confirmed
    expect(isLineOf(line, { ...shape, idAt: 0 })).toBe(false);
  });

  it('confirms a position, it does not parse: its limit is a different event at a re-sent position holding the expected id and mtime at the very same offsets, with the same length', () => {
    // (the protocol puts id first and its nested ids — group, venue — are numbers: this takes a
    // line built to hold another key's string exactly where the id was)
    const shape = shapeOf(Buffer.from('{"id":"ab1","mtime":1425793345907,"name":"zz9"}'));
    const other = Buffer.from('{"xy":"ab1","mtime":1425793345907,"id":"zz999"}');
    expect(isLineOf(other, shape)).toBe(true);
    expect(isLineOf(other, { ...shape, mtime: 1425793345908 })).toBe(false);
  });
});
