/**
 * The set of (id, mtime) pairs already stored, to drop exact duplicates re-sent by the source.
 *
 * Why a window is enough: a resume re-sends either the last positions of the timeline
 * (`since_count`: records that arrived most recently, whatever their mtime — the ids first seen
 * most recently are kept whatever their mtime) or the records with mtime ≥ H − W (`since_mtime`,
 * H the highest mtime stored, W the resume window: every pair with mtime ≥ H − 2W is kept, with
 * W of margin for "older records mixed in" that the source sends beyond the requested window).
 * H only grows, so a pair dropped from the window is never asked for again. Below `minKeep` pairs nothing is
 * evicted (a slow real stream keeps hours of pairs for a few MB), and above `maxKeep` the
 * lowest mtimes go first so memory stays bounded even when a fast source puts millions of
 * records inside one window; a duplicate older than what is kept then lands in the lake, where
 * the ETL's (event_id, mtime) key absorbs it.
 */
export interface DedupeOptions {
  /** Pairs with mtime < highest − windowMs may be forgotten. */
  windowMs: number;
  minKeep?: number;
  maxKeep?: number;
  /**
   * The ids first seen most recently (default 20,000) are kept whatever their mtime, and saved
   * by toJSON: a since_count resume re-sends the last positions, old mtimes included.
   */
  recentKeep?: number;
}

export class DedupeWindow {
  /**
   * id → its mtime(s) kept. Keyed by the id string the scanner already made, with one number
   * for the usual single version, so a pair costs one map entry rather than a concatenated key
   * string: the window holds up to `maxKeep` pairs, and at stream rates those allocations were
   * the streamer's largest share of memory. Mtimes are kept as offsets from the first one
   * added, and canonical numeric ids of up to 9 digits (most of the protocol's) as numbers: V8
   * stores both inline (small integers) instead of as separate heap objects.
   */
  private readonly pairs = new Map<string | number, number | number[]>();
  private base: number | undefined;
  private count = 0;
  private highest = Number.NEGATIVE_INFINITY;
  private nextPruneAt: number;
  readonly windowMs: number;
  readonly minKeep: number;
  readonly maxKeep: number;
  readonly recentKeep: number;

  constructor(options: DedupeOptions) {
    this.windowMs = options.windowMs;
    this.minKeep = options.minKeep ?? 50_000;
    this.recentKeep = Math.min(this.minKeep, options.recentKeep ?? 20_000);
    this.maxKeep = Math.max(this.minKeep, options.maxKeep ?? 1_000_000);
    this.nextPruneAt = Math.ceil(this.minKeep * 1.25);
  }

  /** Pairs remembered. */
  get size(): number {
    return this.count;
  }

  /** The highest mtime added so far (−Infinity when empty). */
  get highestMtime(): number {
    return this.highest;
  }

  /** The lowest mtime the window promises to remember. */
  get floorMtime(): number {
    return this.highest - this.windowMs;
  }

  has(id: string, mtime: number): boolean {
    if (this.base === undefined) return false;
    mtime -= this.base;
    const kept = this.pairs.get(idKey(id));
    return kept === mtime || (Array.isArray(kept) && kept.includes(mtime));
  }

  /** Adds a pair; false when it was already there (a duplicate). */
  add(id: string, mtime: number): boolean {
    if (mtime > this.highest) this.highest = mtime;
    this.base ??= mtime;
    mtime -= this.base;
    const k = idKey(id);
    const kept = this.pairs.get(k);
    if (kept === undefined) {
      this.pairs.set(k, mtime);
    } else if (typeof kept === 'number') {
      if (kept === mtime) return false;
      this.pairs.set(k, [kept, mtime]);
    } else {
      if (kept.includes(mtime)) return false;
      kept.push(mtime);
    }
    this.count++;
    if (this.count >= this.nextPruneAt) this.prune();
    return true;
  }

  /** Forgets pairs below the floor (keeping at least minKeep) and enforces maxKeep. */
  prune(): void {
    const base = this.base ?? 0;
    if (this.count > this.minKeep) {
      const floor = this.floorMtime - base;
      this.forget(this.count - this.minKeep, (m) => m < floor, this.pairs.size - this.recentKeep);
    }
    if (this.count > this.maxKeep) {
      const sorted: number[] = [];
      for (const kept of this.pairs.values()) {
        if (typeof kept === 'number') sorted.push(kept);
        else sorted.push(...kept);
      }
      sorted.sort((a, b) => a - b);
      const cut = sorted[this.count - this.maxKeep]!;
      this.forget(this.count - this.maxKeep, (m) => m < cut);
      // Ties at the cut mtime: drop arbitrary ones until within bounds.
      this.forget(this.count - this.maxKeep, (m) => m === cut);
    }
    this.nextPruneAt = Math.ceil(Math.max(this.minKeep, this.count) * 1.25);
  }

  /** Drops up to `excess` pairs whose mtime matches, oldest added ids first, looking at the first `scan` ids only. */
  private forget(excess: number, drop: (mtime: number) => boolean, scan = Number.POSITIVE_INFINITY): void {
    for (const [id, kept] of this.pairs) {
      if (excess <= 0 || scan-- <= 0) break;
      if (typeof kept === 'number') {
        if (drop(kept)) {
          this.pairs.delete(id);
          this.count--;
          excess--;
        }
        continue;
      }
      const left: number[] = [];
      for (const m of kept) {
        if (excess > 0 && drop(m)) {
          this.count--;
          excess--;
        } else {
          left.push(m);
        }
      }
      if (left.length === 0) this.pairs.delete(id);
      else this.pairs.set(id, left.length === 1 ? left[0]! : left);
    }
  }

  /**
   * The pairs a restart needs, grouped by mtime, for the checkpoint: { "<mtime>": ["id", ...] }.
   * Pairs at or above the floor (what a since_mtime resume can re-send), and those of the ids
   * seen most recently (what a since_count resume re-sends, old mtimes included); older pairs
   * below the floor are left out, which keeps the checkpoint bounded however long the stream runs. Pairs in
   * `exclude` (as `<mtime>\u0000<id>`: records not yet durable) are left out.
   */
  toJSON(exclude?: ReadonlySet<string>): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    const base = this.base ?? 0;
    const floor = this.floorMtime - base;
    let older = this.pairs.size - this.recentKeep;
    for (const [id, kept] of this.pairs) {
      const recent = older-- <= 0;
      for (const mtime of typeof kept === 'number' ? [kept] : kept) {
        if (mtime < floor && !recent) continue;
        const m = String(base + mtime);
        if (exclude?.has(`${m}\u0000${id}`)) continue;
        (out[m] ??= []).push(String(id));
      }
    }
    return out;
  }

  /** Restores pairs saved by toJSON (merging into what is already there). */
  load(saved: Record<string, string[]> | undefined): void {
    if (!saved) return;
    for (const [mtime, ids] of Object.entries(saved)) {
      const m = Number(mtime);
      if (!Number.isSafeInteger(m)) continue;
      for (const id of ids) this.add(id, m);
    }
  }
}

/** The map key of an id: the number for a canonical decimal id below 10^9 (always a small integer), else the string. */
function idKey(id: string): string | number {
  const n = id.length;
  if (n === 0 || n > 9) return id;
  const first = id.charCodeAt(0);
  if (first < 0x30 || first > 0x39 || (first === 0x30 && n > 1)) return id;
  let value = first - 0x30;
  for (let i = 1; i < n; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return id;
    value = value * 10 + (c - 0x30);
  }
  return value;
}
