import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { parseFaultSpec } from '../../src/source/faults.ts';
import { createGenerator } from '../../src/source/generator.ts';
import { decodeChunked, rawRequest, readStream, useServers } from '../helpers/source-client.ts';

const serve = useServers();

const SEED = 7;
const COUNT = 60;
const generated = [...createGenerator({ seed: SEED, count: COUNT })].map((r) => r.line);

function parses(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

describe('fault spec', () => {
  it('parses every kind', () => {
    expect(parseFaultSpec('disconnect:500,stall:2000:3000,status:503:every=3:retry=2,status:429,malformed:0.01,invalid:every=10,truncated:0.5,oversized:every=1000,duplicate:1')).toEqual({
      disconnect: 500,
      stall: { every: 2000, ms: 3000 },
      status: [
        { code: 503, every: 3, retryAfterSec: 2 },
        { code: 429, every: 2, retryAfterSec: 1 },
      ],
      malformed: { probability: 0.01 },
      invalid: { every: 10 },
      truncated: { probability: 0.5 },
      oversized: { every: 1000 },
      duplicate: { probability: 1 },
    });
    expect(parseFaultSpec('')).toEqual({});
    expect(parseFaultSpec('disconnect:5:mid')).toEqual({ disconnect: 5, disconnectMidLine: true });
    expect(parseFaultSpec('cut:4M-10M')).toEqual({ cut: { min: 4 * 1024 * 1024, max: 10 * 1024 * 1024 } });
    expect(parseFaultSpec('cut:1.5k-2000,malformed:0.01')).toEqual({ cut: { min: 1536, max: 2000 }, malformed: { probability: 0.01 } });
    expect(parseFaultSpec('cut:5000')).toEqual({ cut: { min: 5000, max: 5000 } });
  });

  it.each(['cut', 'cut:0', 'cut:10-4', 'cut:4M-', 'cut:x', 'cut:1:2', 'bogus:1', 'disconnect', 'disconnect:5:sideways', 'disconnect:0', 'stall:5', 'status:500', 'status:503:often', 'malformed:2', 'malformed:0', 'truncated:every=x'])(
    'rejects "%s" with a UserError that shows the syntax',
    (spec) => {
      expect(() => parseFaultSpec(spec)).toThrow(UserError);
      try {
        parseFaultSpec(spec);
      } catch (error) {
        expect((error as UserError).message).toContain(spec);
        expect((error as UserError).hint).toContain('disconnect:<n>');
      }
    },
  );
});

describe('faults on the wire', () => {
  it('disconnect:n cuts the connection after n live events, at a line boundary', async () => {
    const server = await serve({ generate: { seed: SEED, count: COUNT }, faults: 'disconnect:25' });
    const first = await readStream(server.url, { idleMs: 2_000 });
    expect(['closed', 'error']).toContain(first.end);
    expect(first.lines).toEqual(generated.slice(0, 25));
    expect(first.rest).toBe('');
    // a reconnect continues where the timeline is
    const second = await readStream(server.url, { idleMs: 2_000 });
    expect(second.lines).toEqual(generated.slice(25, 50));
    expect(server.log().connections.map((c) => c.end)).toEqual(['disconnect-fault', 'disconnect-fault']);
  });

  it('stall:n:ms stops sending for ms after n events without closing, then goes on', async () => {
    const server = await serve({ generate: { seed: SEED, count: COUNT }, faults: 'stall:10:1500' });
    const started = Date.now();
    const quiet = await readStream(server.url, { idleMs: 600 });
    expect(quiet.lines).toEqual(generated.slice(0, 10));
    expect(quiet.end).toBe('idle'); // open but silent
    const server2 = await serve({ generate: { seed: SEED, count: COUNT }, faults: 'stall:10:800' });
    const patient = await readStream(server2.url, { lines: 30, idleMs: 3_000 });
    expect(patient.lines).toEqual(generated.slice(0, 30));
    expect(Date.now() - started).toBeGreaterThanOrEqual(600 + 2 * 800);
  });

  it('status:503 and status:429 answer every k-th connection with Retry-After', async () => {
    const server = await serve({ generate: { seed: SEED, count: COUNT }, faults: 'status:503:every=2:retry=3,status:429:every=3:retry=1' });
    const statuses: Array<[number, string | null]> = [];
    for (let i = 1; i <= 4; i += 1) {
      const res = await fetch(`${server.url}?since_count=1`);
      statuses.push([res.status, res.headers.get('retry-after')]);
      if (res.status !== 200) expect(((await res.json()) as { errors: unknown[] }).errors).toHaveLength(1);
      else await res.body?.cancel();
    }
    expect(statuses).toEqual([
      [200, null],
      [503, '3'],
      [429, '1'],
      [503, '3'],
    ]);
  });

  it.each([
    ['malformed', (line: string) => parses(line) === undefined],
    ['invalid', (line: string) => {
      const value = parses(line) as { id?: unknown; mtime?: unknown } | null | undefined;
      return line !== '' && value !== undefined && (typeof value !== 'object' || value === null || typeof value.id !== 'string' || typeof value.mtime !== 'number');
    }],
  ] as const)('%s lines come after events, are bad, and are logged exactly', async (kind, isBad) => {
    const server = await serve({ generate: { seed: SEED, count: COUNT }, faults: `${kind}:every=7` });
    const read = await readStream(server.url, { idleMs: 600 });
    const good = read.lines.filter((l) => !isBad(l));
    const bad = read.lines.filter((l) => isBad(l));
    // every event whole and in order; a bad line after every 7th
    expect(good).toEqual(generated);
    expect(bad).toHaveLength(Math.floor(COUNT / 7));
    for (const [i, line] of read.lines.entries()) if (isBad(line)) expect(generated.indexOf(read.lines[i - 1]!) % 7).toBe(6);
    expect(server.log().injected.map((x) => [x.kind, x.line])).toEqual(bad.map((l) => [kind, l]));
  });

  it('truncated lines are cut-short copies of the event just sent whole', async () => {
    const server = await serve({ generate: { seed: SEED, count: COUNT }, faults: 'truncated:0.2' });
    const read = await readStream(server.url, { idleMs: 600 });
    const cut = read.lines.map((l, i) => [l, i] as const).filter(([l]) => parses(l) === undefined);
    expect(cut.length).toBeGreaterThan(3);
    for (const [line, i] of cut) {
      const before = read.lines[i - 1]!;
      expect(before.startsWith(line)).toBe(true);
      expect(line.length).toBeLessThan(before.length);
    }
    expect(read.lines.filter((l) => parses(l) !== undefined)).toEqual(generated);
    expect(server.log().injected.map((x) => x.line)).toEqual(cut.map(([l]) => l));
  });

  it('oversized lines exceed 1 MiB and repeat the id and mtime of the event before them', async () => {
    const server = await serve({ generate: { seed: SEED, count: 20 }, faults: 'oversized:every=10' });
    const read = await readStream(server.url, { idleMs: 1_000 });
    const big = read.lines.map((l, i) => [l, i] as const).filter(([l]) => Buffer.byteLength(l) > 1024 * 1024);
    expect(big).toHaveLength(2);
    for (const [line, i] of big) {
      const record = JSON.parse(line) as { id: string; mtime: number };
      const before = JSON.parse(read.lines[i - 1]!) as { id: string; mtime: number };
      expect([record.id, record.mtime]).toEqual([before.id, before.mtime]);
    }
    expect(server.log().injected.map((x) => x.kind)).toEqual(['oversized', 'oversized']);
  });

  it('duplicate lines are exact copies of lines served before, logged as served again', async () => {
    const server = await serve({ generate: { seed: SEED, count: COUNT }, faults: 'duplicate:every=5' });
    const read = await readStream(server.url, { idleMs: 600 });
    expect(read.lines).toHaveLength(COUNT + COUNT / 5);
    const seen = new Set<string>();
    let copies = 0;
    for (const line of read.lines) {
      if (seen.has(line)) copies += 1;
      seen.add(line);
    }
    expect(copies).toBe(COUNT / 5);
    expect([...seen].sort()).toEqual([...generated].sort());
    const log = server.log();
    expect(log.events.filter((e) => e.via === 'duplicate')).toHaveLength(COUNT / 5);
    expect(log.injected).toEqual([]);
  });

  it('places probabilistic faults the same way for the same seed', async () => {
    const a = await serve({ generate: { seed: SEED, count: COUNT }, faults: 'malformed:0.2,truncated:0.1' });
    const b = await serve({ generate: { seed: SEED, count: COUNT }, faults: 'malformed:0.2,truncated:0.1' });
    const [ra, rb] = await Promise.all([readStream(a.url, { idleMs: 600 }), readStream(b.url, { idleMs: 600 })]);
    expect(ra.lines).toEqual(rb.lines);
    expect(a.log().injected.length).toBeGreaterThan(5);
  });
});

describe('mid-line disconnect', () => {
  it('disconnect:n:mid cuts the next record short; the next connection gets it whole first', async () => {
    // Given a stream that is cut in the middle of a record after every 20 events
    const server = await serve({ generate: { seed: SEED, count: COUNT }, faults: 'disconnect:20:mid' });

    // When a client reads until the cut, and reconnects
    const first = await readStream(server.url, { idleMs: 2_000 });
    const second = await readStream(server.url, { idleMs: 2_000 });

    // Then the first connection ends with a partial record and no newline, the second starts with that record whole
    expect(['closed', 'error']).toContain(first.end);
    expect(first.lines).toEqual(generated.slice(0, 20));
    expect(first.rest.length).toBeGreaterThan(0);
    expect(generated[20]!.startsWith(first.rest)).toBe(true);
    expect(first.rest).not.toBe(generated[20]);
    expect(second.lines).toEqual(generated.slice(20, 40));
    const log = server.log();
    expect(log.injected.map((x) => [x.kind, x.line])).toEqual([
      ['cut', first.rest],
      ['cut', second.rest],
    ]);
    // and what counts as served is only what was sent whole
    expect(log.events.map((e) => e.index)).toEqual([...Array(40).keys()]);
  });
});

describe('faults a network and a busy source put anywhere', () => {
  it('cut:<min>-<max> ends each connection after a byte budget drawn per connection, mid-record, during catch-up as live', async () => {
    // Given a stream whose connections each carry 20–60 KB, asked to catch up on more than that
    const server = await serve({ generate: { seed: SEED, count: 400 }, faults: 'cut:20k-60k' });
    while (server.published() < 150) {
      const warm = await readStream(server.url, { idleMs: 2_000 });
      expect(warm.end === 'closed' || warm.end === 'error').toBe(true);
    }
    const before = server.log().connections.length;

    // When clients connect with since_count (catch-up) several times, reading the raw bytes
    const bodies: Buffer[] = [];
    for (let i = 0; i < 5; i += 1) {
      const raw = await rawRequest(`${server.url}?since_count=100`, { readMs: 5_000 });
      const head = raw.indexOf('\r\n\r\n');
      const { data, complete } = decodeChunked(raw.subarray(head + 4));
      expect(complete).toBe(false); // no terminating chunk: the connection was cut
      bodies.push(data);
    }

    // Then each carried a budget between 20 KiB and 60 KiB, not all the same, and ended inside a record
    const sizes = bodies.map((b) => b.length);
    for (const size of sizes) {
      expect(size).toBeGreaterThanOrEqual(20 * 1024);
      expect(size).toBeLessThanOrEqual(60 * 1024);
    }
    expect(new Set(sizes).size).toBeGreaterThan(1);
    const log = server.log();
    const cuts = log.injected.filter((x) => x.kind === 'cut');
    for (const [i, body] of bodies.entries()) {
      const text = body.toString('utf8');
      const rest = text.slice(text.lastIndexOf('\n') + 1);
      const connection = before + i + 1;
      expect(log.connections[connection - 1]).toMatchObject({ sinceCount: 100, end: 'byte-budget' });
      // the partial record is logged as cut, and is the head of a real record
      const cut = cuts.find((x) => x.connection === connection)!;
      expect(cut.line).toBe(rest);
      expect(generated400.some((g) => Buffer.from(g).subarray(0, Buffer.byteLength(rest)).toString() === rest && g !== rest), rest).toBe(true);
      // every whole line before it is an event of the catch-up, in timeline order
      const whole = text.slice(0, text.lastIndexOf('\n')).split('\n');
      expect(whole).toEqual(log.events.filter((e) => e.connection === connection).map((e) => generated400[e.index]));
      expect(log.events.filter((e) => e.connection === connection).every((e) => e.via === 'catchup')).toBe(true);
    }
  });

  it('line faults follow catch-up events too, and disconnect:n counts them', async () => {
    // Given a stream that puts a malformed line after every 4th event and cuts after every 10
    const server = await serve({ generate: { seed: SEED, count: COUNT }, faults: 'malformed:every=4,disconnect:10' });
    await readStream(server.url, { idleMs: 2_000 }); // 10 live events publish the start of the timeline

    // When a client asks to catch up on the last 8 and keeps reading
    const read = await readStream(`${server.url}?since_count=8`, { idleMs: 2_000 });

    // Then it got 8 catch-up events and 2 live ones, a malformed line after the 4th and 8th catch-up
    // events (counted on the connection) and after live event 12 (every 4th of the timeline)
    const bad = read.lines.map((l, i) => [l, i] as const).filter(([l]) => parses(l) === undefined);
    const good = read.lines.filter((l) => parses(l) !== undefined);
    expect(good).toEqual([...generated.slice(2, 10), ...generated.slice(10, 12)]);
    expect(bad.map(([, i]) => i)).toEqual([4, 9, 12]);
    const log = server.log();
    expect(log.connections[1]).toMatchObject({ sinceCount: 8, end: 'disconnect-fault' });
    expect(log.injected.filter((x) => x.connection === 2).map((x) => x.kind)).toEqual(['malformed', 'malformed', 'malformed']);
  });
});

const generated400 = [...createGenerator({ seed: SEED, count: 400 })].map((r) => r.line);
