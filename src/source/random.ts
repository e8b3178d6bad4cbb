/**
 * Seeded randomness for the source: everything it makes up (generated events, fault placement)
 * is a function of the seed, so a run can be reproduced. Never Math.random.
 */

/** A 32-bit hash of integers (a murmur3-style finaliser chain), for order-independent decisions. */
export function hash32(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    // Mix both halves so numbers beyond 2^32 (timeline positions, ms) still change the hash.
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h = Math.imul(h ^ Math.floor(part / 4294967296), 0xc2b2ae35);
    h ^= h >>> 16;
  }
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}

/** hash32 of three 32-bit integers without a rest array (hot paths). */
export function hash3(a: number, b: number, c: number): number {
  let h = Math.imul(0x9e3779b9 ^ (a >>> 0), 0x85ebca6b);
  h = Math.imul(h ^ (b >>> 0), 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h ^ (c >>> 0), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) >>> 0;
}

/** A uniform number in [0, 1) determined by the parts. */
export function hash01(...parts: number[]): number {
  return hash32(...parts) / 4294967296;
}

/** A small, fast seeded PRNG (mulberry32). */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = hash32(seed) | 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A uniformly chosen element. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

/**
 * Draws from a discrete distribution in O(log n): build once from weights, then `draw(u)` with a
 * uniform u in [0, 1).
 */
export class Weighted<T> {
  private readonly cumulative: Float64Array;
  readonly items: readonly T[];

  constructor(entries: ReadonlyArray<readonly [T, number]>) {
    this.items = entries.map(([item]) => item);
    this.cumulative = new Float64Array(entries.length);
    let total = 0;
    entries.forEach(([, weight], i) => {
      total += Math.max(0, weight);
      this.cumulative[i] = total;
    });
    if (total <= 0) throw new Error('Weighted: no positive weight');
    for (let i = 0; i < this.cumulative.length; i += 1) this.cumulative[i]! /= total;
  }

  draw(u: number): T {
    const c = this.cumulative;
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (c[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo]!;
  }
}
