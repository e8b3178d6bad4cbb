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
      expect(results[i]).toEqual({ kind: 'valid', id: parsed.id, mtime: parsed.mtime });
    }
    expect(results.at(-1)).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/^truncated record/) });
  });

  it('keeps unknown fields out of its way: only id and mtime matter', () => {
    expect(v('{"mtime":5,"zzz":[1,{"id":3}],"id":"x1"}')).toEqual({ kind: 'valid', id: 'x1', mtime: 5 });
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

  it("knows every real record's line by its id, mtime and length, and no other record's line", () => {
    for (const [i, r] of records.entries()) {
      expect(isLineOf(r.line, r.line.length, r.id, r.mtime)).toBe(true);
      // the next different record of the capture (another event, or another version of this one)
      const other = records.slice(i + 1).find((o) => o.id !== r.id || o.mtime !== r.mtime);
      if (other) expect(isLineOf(other.line, other.line.length, r.id, r.mtime)).toBe(false);
    }
  });

  it('answers false, so the line is scanned as usual, for anything that is not exactly that line', () => {
    const line = Buffer.from('{"id":"ab1","mtime":1425793345907,"name":"x"}');
    expect(isLineOf(line, line.length, 'ab1', 1425793345907)).toBe(true);
    // another length (a new version, a damaged copy)
    expect(isLineOf(line, line.length + 1, 'ab1', 1425793345907)).toBe(false);
    // an mtime that is only a prefix of the line's, or the line's a prefix of it
    const longer = Buffer.from('{"id":"ab1","mtime":14257933459070,"name":"x"}');
    expect(isLineOf(longer, longer.length, 'ab1', 1425793345907)).toBe(false);
    expect(isLineOf(line, line.length, 'ab1', 142579334590)).toBe(false);
    // another id, an id that only starts like it, and one spelled with spaces
    expect(isLineOf(line, line.length, 'ab', 1425793345907)).toBe(false);
    expect(isLineOf(line, line.length, 'ab12', 1425793345907)).toBe(false);
    const spaced = Buffer.from('{"id": "ab1","mtime":1425793345907,"name":"x"}');
    expect(isLineOf(spaced, spaced.length, 'ab1', 1425793345907)).toBe(false);
  });

  it('confirms a position, it does not parse: its limit is a different event at a re-sent position with the expected id nested, the same mtime and the same length', () => {
    // (the protocol's nested ids — group, venue — are numbers, so this takes a string id nested
    // in another event, which also has to agree on mtime and length to the byte)
    const nested = Buffer.from('{"id":"zz9","mtime":1425793345907,"g":{"id":"ab1"}}');
    expect(isLineOf(nested, nested.length, 'ab1', 1425793345907)).toBe(true);
    expect(isLineOf(nested, nested.length, 'ab1', 1425793345908)).toBe(false);
  });
});
