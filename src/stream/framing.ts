/**
 * Line framing over a byte stream. Works on Buffers, so a line split across chunks — even in
 * the middle of a multi-byte UTF-8 character — comes out byte-for-byte as sent. "\n" ends a
 * line and a "\r" before it is dropped. A line longer than the limit is never buffered whole:
 * the framer keeps its head for the quarantine and only counts the rest, so memory stays
 * bounded whatever the source sends.
 */

/** A line that exceeded the limit: its first bytes and its full length. */
export interface OversizedLine {
  oversized: true;
  head: Buffer;
  length: number;
}

export type Framed = Buffer | OversizedLine;

const NL = 0x0a;
const CR = 0x0d;

export class LineFramer {
  private parts: Buffer[] = [];
  private partsLength = 0;
  /** Set while skipping the rest of an oversized line. */
  private skipping: { head: Buffer; length: number; lastByte: number } | undefined;

  /**
   * @param maxLineBytes lines longer than this come out as OversizedLine
   * @param keepBytes how much of an oversized line to keep
   */
  constructor(
    private readonly maxLineBytes: number,
    private readonly keepBytes = 64 * 1024,
  ) {}

  /** Bytes held for an unfinished line (bounded by maxLineBytes + one chunk). */
  get pendingBytes(): number {
    return this.skipping ? this.skipping.head.length : this.partsLength;
  }

  /** Frames a chunk: the complete lines it ends, in order. The chunk may be referenced, not copied. */
  push(chunk: Buffer, out: Framed[] = []): Framed[] {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, start);
      if (nl < 0) break;
      out.push(this.finish(chunk.subarray(start, nl)));
      start = nl + 1;
    }
    if (start < chunk.length) this.hold(chunk.subarray(start));
    return out;
  }

  /**
   * Ends the stream: returns the unterminated last line (a cut-off record, usually), if any,
   * and resets the framer for the next connection.
   */
  end(): Framed | undefined {
    if (!this.skipping && this.partsLength === 0) return undefined;
    const last = this.finish(Buffer.alloc(0), false);
    return last;
  }

  private hold(piece: Buffer): void {
    if (this.skipping) {
      this.skipping.length += piece.length;
      if (piece.length > 0) this.skipping.lastByte = piece[piece.length - 1]!;
      return;
    }
    if (this.partsLength + piece.length > this.maxLineBytes) {
      const head = Buffer.concat([...this.parts, piece], this.partsLength + piece.length).subarray(0, this.keepBytes);
      this.skipping = { head: Buffer.from(head), length: this.partsLength + piece.length, lastByte: piece[piece.length - 1] ?? 0 };
      this.parts = [];
      this.partsLength = 0;
      return;
    }
    this.parts.push(piece);
    this.partsLength += piece.length;
  }

  private finish(tail: Buffer, terminated = true): Framed {
    if (this.skipping) {
      const { head, length, lastByte } = this.skipping;
      this.skipping = undefined;
      const last = tail.length > 0 ? tail[tail.length - 1] : lastByte;
      const total = length + tail.length - (terminated && last === CR ? 1 : 0);
      return { oversized: true, head, length: total };
    }
    let line: Buffer;
    if (this.partsLength === 0) {
      line = tail;
    } else {
      this.parts.push(tail);
      line = Buffer.concat(this.parts, this.partsLength + tail.length);
      this.parts = [];
      this.partsLength = 0;
    }
    if (terminated && line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (line.length > this.maxLineBytes) {
      return { oversized: true, head: Buffer.from(line.subarray(0, this.keepBytes)), length: line.length };
    }
    return line;
  }
}

/** True for the OversizedLine variant. */
export function isOversized(framed: Framed): framed is OversizedLine {
  return !Buffer.isBuffer(framed);
}
