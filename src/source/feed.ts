/**
 * A feed is the sequence of records a source server publishes: the replayed capture or the
 * generated stream. Records are produced on demand and then addressed by their position on the
 * timeline, so the server never holds a per-client copy of the stream and can re-serve any
 * earlier record for `since_mtime` / `since_count` catch-up.
 */
export interface Feed {
  /** Records produced so far (positions 0 … size-1). */
  size(): number;
  /** Produces the next record; false when the feed has no more (a replay's end, a generator's --count). */
  produce(): boolean;
  /** The record's bytes as served, without the newline. */
  line(index: number): string | Buffer;
  /** The record's event id, or undefined for a replayed line that is not a usable record. */
  id(index: number): string | undefined;
  /** The record's mtime (ms), or NaN for a replayed line that is not a usable record. */
  mtime(index: number): number;
}
