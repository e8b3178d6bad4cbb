/**
 * The accepted records a sink has not yet made durable, in sequence order: their (id, mtime)
 * and their position on the source's timeline (see ResumePlanner). The checkpoint leaves them
 * out of its dedupe window (a restart must take them again, not drop them as seen), and the
 * resume point names the first of them as where a restart must pick up.
 *
 * Kept in growable typed arrays, as a ring indexed by sequence number: a sink keeps at most a
 * raw file's or a few batches' worth in flight, and at stream rates an object per record would
 * be garbage the collector has to chase.
 */
export class PendingRecords {
  private ids: string[] = [];
  private mtimes = new Float64Array(1024);
  private positions = new Float64Array(1024);
  /** Sequence number of the oldest record held, and how many are held. */
  private headSeq = 1;
  private head = 0;
  private count = 0;

  /** Records held. */
  get size(): number {
    return this.count;
  }

  /** The sequence number the next push() must have. */
  get nextSeq(): number {
    return this.headSeq + this.count;
  }

  /** Starts empty at `seq` (after a restart: the checkpoint's next sequence number). */
  reset(seq: number): void {
    this.headSeq = seq;
    this.head = 0;
    this.count = 0;
    this.ids = new Array<string>(this.mtimes.length);
  }

  /** Adds the record with the next sequence number. */
  push(id: string, mtime: number, position: number): void {
    if (this.count === this.mtimes.length) this.grow();
    const i = (this.head + this.count) % this.mtimes.length;
    this.ids[i] = id;
    this.mtimes[i] = mtime;
    this.positions[i] = position;
    this.count++;
  }

  /** Forgets records with sequence numbers ≤ seq (they are durable); returns the highest mtime among them (−Infinity if none). */
  dropThrough(seq: number): number {
    const n = Math.min(this.count, seq - this.headSeq + 1);
    let highest = Number.NEGATIVE_INFINITY;
    if (n <= 0) return highest;
    const cap = this.mtimes.length;
    for (let k = 0; k < n; k++) {
      const i = (this.head + k) % cap;
      this.ids[i] = '';
      if (this.mtimes[i]! > highest) highest = this.mtimes[i]!;
    }
    this.head = (this.head + n) % cap;
    this.headSeq += n;
    this.count -= n;
    return highest;
  }

  /** The k-th oldest record held (0 = the first not durable). */
  at(k: number): { seq: number; id: string; mtime: number; position: number } | undefined {
    if (k < 0 || k >= this.count) return undefined;
    const i = (this.head + k) % this.mtimes.length;
    return { seq: this.headSeq + k, id: this.ids[i]!, mtime: this.mtimes[i]!, position: this.positions[i]! };
  }

  /** Up to `k` records with sequence numbers ≤ seq, the newest of them, oldest first. */
  lastThrough(seq: number, k: number): Array<{ seq: number; id: string; mtime: number; position: number }> {
    const end = Math.min(this.count, seq - this.headSeq + 1);
    const out = [];
    for (let j = Math.max(0, end - k); j < end; j++) out.push(this.at(j)!);
    return out;
  }

  /** Calls fn for every record held, oldest first. */
  forEach(fn: (id: string, mtime: number) => void): void {
    const cap = this.mtimes.length;
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) % cap;
      fn(this.ids[i]!, this.mtimes[i]!);
    }
  }

  /** The lowest mtime held (Infinity when empty). */
  minMtime(): number {
    let min = Number.POSITIVE_INFINITY;
    const cap = this.mtimes.length;
    for (let k = 0; k < this.count; k++) min = Math.min(min, this.mtimes[(this.head + k) % cap]!);
    return min;
  }

  private grow(): void {
    const cap = this.mtimes.length;
    const mtimes = new Float64Array(cap * 2);
    const positions = new Float64Array(cap * 2);
    const ids = new Array<string>(cap * 2);
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) % cap;
      mtimes[k] = this.mtimes[i]!;
      positions[k] = this.positions[i]!;
      ids[k] = this.ids[i]!;
    }
    this.mtimes = mtimes;
    this.positions = positions;
    this.ids = ids;
    this.head = 0;
  }
}
