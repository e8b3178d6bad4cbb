import { describe, expect, it } from 'vitest';
import { backoffDelayMs, parseRetryAfter, reconnectDelayMs } from '../../src/stream/backoff.ts';
import { DedupeWindow } from '../../src/stream/dedupe.ts';

const policy = { initialMs: 100, maxMs: 5_000 };

describe('backoff', () => {
  it('draws full jitter below an exponentially growing ceiling capped at max', () => {
    // With random() at its top, the delay is the ceiling itself (minus rounding)
    const top = () => 0.999999;
    expect([0, 1, 2, 3, 6, 20].map((a) => backoffDelayMs(a, policy, top))).toEqual([99, 199, 399, 799, 4999, 4999]);
    // and with random() = 0 it is 0: full jitter spans [0, ceiling)
    expect(backoffDelayMs(5, policy, () => 0)).toBe(0);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-28T06:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(['7'], now)).toBe(7000);
    expect(parseRetryAfter('Sat, 28 Nov 2026 06:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Sat, 28 Nov 2026 05:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('never waits less than Retry-After asks', () => {
    expect(reconnectDelayMs(0, policy, 2000, () => 0.5)).toBe(2000);
    expect(reconnectDelayMs(10, policy, 10, () => 0.5)).toBe(2500);
  });
});

describe('DedupeWindow', () => {
  it('drops exact (id, mtime) repeats but not a newer version of the same id', () => {
    const d = new DedupeWindow({ windowMs: 1000 });
    expect(d.add('a', 1)).toBe(true);
    expect(d.add('a', 1)).toBe(false);
    expect(d.add('a', 2)).toBe(true);
    expect(d.add('b', 1)).toBe(true);
    expect(d.highestMtime).toBe(2);
  });

  it('forgets only pairs below highest − window once past minKeep, and never exceeds maxKeep', () => {
    // Given a window of 100 ms, minKeep 10 and maxKeep 50
    const d = new DedupeWindow({ windowMs: 100, minKeep: 10, maxKeep: 50 });
    for (let i = 0; i < 1000; i++) d.add(`e${i}`, i);
    d.prune();
    // Then every pair at or above highest − window is remembered ...
    for (let i = 999 - 49; i < 1000; i++) expect(d.has(`e${i}`, i)).toBe(true);
    // ... memory stays at or under maxKeep, and old pairs are gone
    expect(d.size).toBeLessThanOrEqual(50);
    expect(d.has('e0', 0)).toBe(false);
  });

  it('keeps everything of a small stream in memory, and persists what a restart needs: the pairs at or above the floor, and those of the ids seen last', () => {
    // Given 500 pairs of 97 ids over 500 ms, a window of 100 ms, and the 50 ids seen last kept whatever their mtime
    const d = new DedupeWindow({ windowMs: 100, recentKeep: 50 });
    for (let i = 0; i < 500; i++) d.add(`id-${i % 97}`, 1_000 + i);
    // Then all of them are remembered in memory (fewer than minKeep) ...
    expect(d.size).toBe(500);
    for (let i = 0; i < 500; i++) expect(d.has(`id-${i % 97}`, 1_000 + i)).toBe(true);
    // ... and a save/load round trip restores exactly those with mtime ≥ highest − window, and every pair of ids 47..96 (first seen last)
    const restored = new DedupeWindow({ windowMs: 100 });
    restored.load(JSON.parse(JSON.stringify(d.toJSON())) as Record<string, string[]>);
    const floor = 1_499 - 100;
    const kept = (i: number): boolean => 1_000 + i >= floor || i % 97 >= 47;
    expect(restored.size).toBe([...Array(500).keys()].filter(kept).length);
    for (let i = 0; i < 500; i++) expect(restored.has(`id-${i % 97}`, 1_000 + i)).toBe(kept(i));
    expect(restored.highestMtime).toBe(1_499);
    // ... and without that, the floor alone
    const plain = new DedupeWindow({ windowMs: 100, recentKeep: 0 });
    for (let i = 0; i < 500; i++) plain.add(`id-${i % 97}`, 1_000 + i);
    expect(Object.values(plain.toJSON()).flat().length).toBe(1_499 - floor + 1);
  });

  it('never forgets the ids seen last, whatever their mtime, while pruning to minKeep', () => {
    const d = new DedupeWindow({ windowMs: 100, minKeep: 100, recentKeep: 30, maxKeep: 10_000 });
    // 1,000 records of recent mtime, then 20 of very old mtime (a burst of old records just received)
    for (let i = 0; i < 1000; i++) d.add(`new-${i}`, 1_000_000 + i);
    for (let i = 0; i < 20; i++) d.add(`old-${i}`, 5 + i);
    d.prune();
    for (let i = 0; i < 20; i++) expect(d.has(`old-${i}`, 5 + i)).toBe(true);
  });
});
