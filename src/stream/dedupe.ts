/**
 * The set of (id, mtime) pairs already stored, to drop exact duplicates re-sent by the source.
 *
 * Why a window is enough: after a reconnect the streamer asks for `since_mtime = H − W` (H the
 * highest mtime stored, W the resume window), so a re-sent record has mtime ≥ H − W. Keeping
 * every pair with mtime ≥ H − 2W therefore catches every re-sent duplicate, with W of margin for
 * "older records mixed in" that the source sends beyond the requested window. H only grows, so
 * a pair dropped from the window is never asked for again. Below `minKeep` pairs nothing is
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
}

export class DedupeWindow {
  /** key → mtime; the key is `${mtime}\u0000${id}`. */
  private readonly pairs = new Map<string, number>();
  private highest = Number.NEGATIVE_INFINITY;
  private nextPruneAt: number;
  readonly windowMs: number;
  readonly minKeep: number;
  readonly maxKeep: number;

  constructor(options: DedupeOptions) {
    this.windowMs = options.windowMs;
    this.minKeep = options.minKeep ?? 50_000;
    this.maxKeep = Math.max(this.minKeep, options.maxKeep ?? 1_000_000);
    this.nextPruneAt = Math.ceil(this.minKeep * 1.25);
  }

  get size(): number {
    return this.pairs.size;
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
    return this.pairs.has(key(id, mtime));
  }

  /** Adds a pair; false when it was already there (a duplicate). */
  add(id: string, mtime: number): boolean {
    const k = key(id, mtime);
    if (this.pairs.has(k)) return false;
    this.pairs.set(k, mtime);
    if (mtime > this.highest) this.highest = mtime;
    if (this.pairs.size >= this.nextPruneAt) this.prune();
    return true;
  }

  /** Forgets pairs below the floor (keeping at least minKeep) and enforces maxKeep. */
  prune(): void {
    if (this.pairs.size > this.minKeep) {
      const floor = this.floorMtime;
      let excess = this.pairs.size - this.minKeep;
      for (const [k, mtime] of this.pairs) {
        if (excess <= 0) break;
        if (mtime < floor) {
          this.pairs.delete(k);
          excess--;
        }
      }
    }
    if (this.pairs.size > this.maxKeep) {
      const sorted = [...this.pairs.values()].sort((a, b) => a - b);
      const cut = sorted[this.pairs.size - this.maxKeep]!;
      let excess = this.pairs.size - this.maxKeep;
      for (const [k, mtime] of this.pairs) {
        if (excess <= 0) break;
        if (mtime < cut) {
          this.pairs.delete(k);
          excess--;
        }
      }
      // Ties at the cut mtime: drop arbitrary ones until within bounds.
      for (const [k, mtime] of this.pairs) {
        if (excess <= 0) break;
        if (mtime === cut) {
          this.pairs.delete(k);
          excess--;
        }
      }
    }
    this.nextPruneAt = Math.ceil(Math.max(this.minKeep, this.pairs.size) * 1.25);
  }

  /**
   * The pairs a restart needs, grouped by mtime, for the checkpoint: { "<mtime>": ["id", ...] }.
   * Only pairs at or above the floor: after a restart the source re-sends nothing older (pairs
   * kept below it only catch old records the live stream mixes in, which a restart does not
   * repeat), and this keeps the checkpoint small however long the stream runs.
   */
  toJSON(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    const floor = this.floorMtime;
    for (const [k, mtime] of this.pairs) {
      if (mtime < floor) continue;
      const cut = k.indexOf('\u0000');
      (out[k.slice(0, cut)] ??= []).push(k.slice(cut + 1));
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

function key(id: string, mtime: number): string {
  return `${mtime}\u0000${id}`;
}
