import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createGenerator } from '../../src/source/generator.ts';
import { invalidLine, malformedLine, truncatedLine } from '../../src/source/faults.ts';
import { scanKey } from '../../src/stream/scan.ts';
import { CAPTURE } from '../helpers/fixtures.ts';


/** The authority: what JSON.parse makes of the line, as a key, or undefined. */
function byJsonParse(line: Buffer): { id: unknown; mtime: unknown } | 'not-json' | 'not-object' {
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    return 'not-json';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not-object';
  const { id, mtime } = value as { id?: unknown; mtime?: unknown };
  return { id, mtime };
}

/** scanKey may decline anything, but what it accepts JSON.parse must accept with the same id and mtime. */
function expectSound(line: Buffer): boolean {
  const got = scanKey(line);
  if (got === undefined) return false;
  const truth = byJsonParse(line);
  expect(truth, line.toString()).toEqual({ id: got.id, mtime: got.mtime });
  return true;
}

/** A small deterministic PRNG for the mutations. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('scanKey', () => {
  const capture = readFileSync(CAPTURE, 'utf8').split('\n').filter((l) => l !== '').map((l) => Buffer.from(l));
  const generated = [...createGenerator({ seed: 3, count: 1500 })].map((r) => Buffer.from(r.line));

  it('reads id and mtime of every real and generated record on the fast path, exactly as JSON.parse does', () => {
    const complete = capture.slice(0, -1);
    for (const line of [...complete, ...generated]) expect(expectSound(line)).toBe(true);
  });

  it('never accepts what JSON.parse rejects, nor reads another id or mtime, on thousands of mutated lines', () => {
    const random = rng(7);
    const alphabet = Buffer.from('{}[]":,\\ 0123456789.eE+-tfnulabcidm\t\u0001');
    let accepted = 0;
    let tried = 0;
    for (const base of [...capture.slice(0, 200), ...generated.slice(0, 200)]) {
      for (let k = 0; k < 12; k++) {
        const at = Math.floor(random() * base.length);
        const ch = alphabet[Math.floor(random() * alphabet.length)]!;
        const mode = Math.floor(random() * 4);
        const mutated =
          mode === 0
            ? Buffer.concat([base.subarray(0, at), base.subarray(at + 1)]) // delete a byte
            : mode === 1
              ? Buffer.concat([base.subarray(0, at), Buffer.from([ch]), base.subarray(at)]) // insert one
              : mode === 2
                ? Buffer.concat([base.subarray(0, at), Buffer.from([ch]), base.subarray(at + 1)]) // replace one
                : base.subarray(0, at); // truncate
        tried++;
        if (expectSound(mutated)) accepted++;
      }
    }
    // Most mutations still parse (a changed letter inside a description), so both paths are exercised.
    expect(accepted).toBeGreaterThan(tried / 4);
    expect(accepted).toBeLessThan(tried);
  });

  it("declines the source's bad lines and the tricky cases, leaving them to JSON.parse", () => {
    const lines = [
      ...Array.from({ length: 40 }, (_, i) => malformedLine(1, i)),
      ...Array.from({ length: 40 }, (_, i) => invalidLine(1, i)),
      truncatedLine(generated[0]!.toString(), 1, 1),
      '{"id":"a","mtime":1}x',
      '{"id":"a","mtime":01}',
      '{"id":"a","mtime":1.0}',
      '{"id":"a","mtime":1e3}',
      '{"\\u0069d":"a","mtime":5}',
      '{"id":"\\u0061","mtime":5}',
      '{"id":" a","mtime":5}',
      '{"id":"a","mtime":-5}',
      '{"id":"a","mtime":5,"id":7}',
      '{"id":"a","mtime":"5"}',
      '{"id":{"x":1},"mtime":5}',
      '{"id":"a","mtime":5,}',
      '{"id":"a" "mtime":5}',
      '{"id":"a","mtime":5,"x":[1,2,]}',
      '{"id":"a","mtime":5,"x":"tab\there"}',
      '{"id":"a","mtime":5,"x":"bad \\x escape"}',
      '{"id":"a","mtime":5,"x":tru}',
      '{"id":"a","mtime":12345678901234567}',
    ];
    for (const line of lines) expect(scanKey(Buffer.from(line)), line).toBeUndefined();
  });

  it('accepts well-formed variations: nesting, spacing, literals, numbers, duplicate keys (last wins), nested ids', () => {
    const ok: Array<[string, string, number]> = [
      [' {"mtime" : 5 , "id" : "x" } ', 'x', 5],
      ['{"id":"first","mtime":1,"id":"second"}', 'second', 1],
      ['{"group":{"id":99,"mtime":"n/a"},"id":"e1","mtime":1425793345907}', 'e1', 1425793345907],
      ['{"id":"Zürich-東京","mtime":7,"a":[true,false,null,-0.5e-3,{"b":[]},{}],"c":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9"}', 'Zürich-東京', 7],
    ];
    for (const [line, id, mtime] of ok) {
      const bytes = Buffer.from(line);
      const got = scanKey(bytes)!;
      expect(got).toMatchObject({ id, mtime });
      // and where the values it kept start (the later of duplicate keys, as JSON.parse keeps)
      expect(bytes.subarray(got.idAt, got.idAt + Buffer.byteLength(id)).toString()).toBe(id);
      expect(bytes.subarray(got.mtimeAt, got.mtimeAt + String(mtime).length).toString()).toBe(String(mtime));
      expect(expectSound(Buffer.from(line))).toBe(true);
    }
  });
});
