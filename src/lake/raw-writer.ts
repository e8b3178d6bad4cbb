import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib, { constants as zlibConstants, type ZlibOptions } from 'node:zlib';
import { rawObjectKey, type HourId } from './layout.ts';
import type { ObjectStore } from './store.ts';

const deflateRaw = promisify<Buffer, ZlibOptions, Buffer>(zlib.deflateRaw);

/** Blocks compressed at once, each on a thread of libuv's pool (4 by default). */
const BLOCKS_IN_FLIGHT = 2;
/** Deflate's window: the last bytes of one block are the next block's dictionary. */
const WINDOW = 32 * 1024;
/** gzip header (RFC 1952): deflate, no name, mtime 0 (deterministic files), Unix. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);
/** An empty final deflate block (fixed Huffman codes): ends a stream of sync-flushed blocks. */
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/**
 * A record's position in its writer's sequence: the streamer's counter (contiguous from 1), or a
 * Kinesis sequence number (a decimal string, increasing with gaps) for the lander.
 */
export type SequenceId = number | string;

/** A raw object once it is durable in the lake. */
export interface RawFile<S extends SequenceId = number> {
  key: string;
  hour: HourId;
  /** Sequence numbers of its first and last record. */
  first: S;
  last: S;
  records: number;
  /** Compressed size. */
  bytes: number;
}

interface OpenFile<S extends SequenceId> {
  hour: HourId;
  first: S;
  last: S;
  records: number;
  openedAtMs: number;
  tmp: string;
  out: WriteStream;
  /** Blocks being compressed, in file order, with their uncompressed sizes. */
  pending: Array<{ block: Promise<Buffer>; input: number }>;
  /** The last WINDOW bytes handed in: the next block's dictionary. */
  window: Buffer | undefined;
  /** CRC-32 and length of the uncompressed bytes, for the gzip trailer. */
  crc: number;
  size: number;
  /** Compressed bytes in the file so far, and the uncompressed bytes they hold. */
  compressedBytes: number;
  appendedInput: number;
}

/** Assumed for blocks still being compressed while no block has told the real ratio. */
const TYPICAL_RATIO = 0.3;

/**
 * Writes one raw object at a time, as one standard gzip member compressed in parallel the way
 * pigz does: each write is a block deflated (level 1) on libuv's thread pool, BLOCKS_IN_FLIGHT
 * at once, with the previous block's last 32 KiB as its dictionary (so the ratio is that of one
 * stream), sync-flushed to a byte boundary and appended in order; close() adds an empty final
 * block and the CRC-32 / length trailer. One zlib stream could not keep up with the reader on
 * two cores. The file is written under a temporary name, and `close()` moves it into the lake
 * under its deterministic name `<writer>-<first>-<last>.ndjson.gz` in its arrival hour —
 * atomically, through the store. Until then nothing is visible in the lake.
 */
export class RawWriter<S extends SequenceId = number> {
  private file: OpenFile<S> | undefined;

  constructor(
    private readonly store: ObjectStore,
    readonly writer: string,
    /** Folder for temporary files; on the lake's filesystem when it is local (rename, no copy). */
    readonly tmpDir: string,
    private readonly level = 1,
  ) {}

  /**
   * The open file's hour, first and last sequence, record count and age, and its compressed
   * size: what is written plus an estimate for the blocks still being compressed.
   */
  get current(): { hour: HourId; first: S; last: S; records: number; openedAtMs: number; compressedBytes: number } | undefined {
    const f = this.file;
    if (!f) return undefined;
    const ratio = f.appendedInput > 0 ? (f.compressedBytes - GZIP_HEADER.length) / f.appendedInput : TYPICAL_RATIO;
    const inFlight = f.pending.reduce((n, p) => n + p.input, 0);
    return { hour: f.hour, first: f.first, last: f.last, records: f.records, openedAtMs: f.openedAtMs, compressedBytes: f.compressedBytes + Math.round(inFlight * ratio) };
  }

  /**
   * Appends records (their bytes, each followed by "\n") with sequence numbers first..last as
   * one compressed block; numeric sequences continue the file's without a gap, string ones (Kinesis
   * sequence numbers) only increase. Resolves once at most BLOCKS_IN_FLIGHT blocks are being
   * compressed and the file has room, which is how a slow disk slows the reader. `consumed` is
   * called when `data` may be reused (also if the file is discarded).
   */
  async write(hour: HourId, first: S, last: S, data: Buffer, nowMs: number, consumed?: () => void): Promise<void> {
    let file = this.file;
    if (file && file.hour !== hour) throw new Error(`raw writer: open file is for ${file.hour}, not ${hour}`);
    if (!file) file = this.file = await this.open(hour, first, nowMs);
    if (typeof first === 'number' && first !== (file.last as number) + 1 && file.records > 0) throw new Error(`raw writer: sequence gap ${file.last} → ${first}`);
    file.last = last;
    file.records += typeof first === 'number' ? (last as number) - first + 1 : countLines(data);
    file.crc = crc32(data, file.crc);
    file.size += data.length;
    const dictionary = file.window;
    // A copy (concat copies too): `data` goes back to the caller once compressed, the window outlives it.
    file.window = data.length >= WINDOW || !dictionary ? Buffer.from(data.subarray(-WINDOW)) : Buffer.concat([dictionary, data]).subarray(-WINDOW);
    const options: ZlibOptions = { level: this.level, finishFlush: zlibConstants.Z_SYNC_FLUSH, chunkSize: 128 * 1024, ...(dictionary ? { dictionary } : {}) };
    const block = deflateRaw(data, options).finally(() => consumed?.());
    block.catch(() => undefined); // awaited in order below; a discarded file's blocks need no handling
    file.pending.push({ block, input: data.length });
    while (file.pending.length > BLOCKS_IN_FLIGHT) await this.append(file);
  }

  /** Appends the oldest block to the file once it is compressed. */
  private async append(file: OpenFile<S>): Promise<void> {
    const { block, input } = file.pending.shift()!;
    const bytes = await block;
    file.compressedBytes += bytes.length;
    file.appendedInput += input;
    if (!file.out.write(bytes)) await once(file.out, 'drain');
  }

  /** Finishes the open file and moves it into the lake; undefined when none is open. */
  async close(): Promise<RawFile<S> | undefined> {
    const file = this.file;
    if (!file) return undefined;
    this.file = undefined;
    while (file.pending.length > 0) await this.append(file);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(file.crc >>> 0, 0);
    trailer.writeUInt32LE(file.size % 2 ** 32, 4);
    file.out.end(Buffer.concat([FINAL_BLOCK, trailer]));
    await finished(file.out);
    const { size } = await fs.stat(file.tmp);
    const key = rawObjectKey(file.hour, this.writer, file.first, file.last);
    await this.store.putFile(key, file.tmp, { contentType: 'application/x-ndjson' });
    return { key, hour: file.hour, first: file.first, last: file.last, records: file.records, bytes: size };
  }

  /** Drops the open file without publishing it (its records were never made durable). */
  async discard(): Promise<void> {
    const file = this.file;
    if (!file) return;
    this.file = undefined;
    file.out.destroy();
    await fs.rm(file.tmp, { force: true });
  }

  /** Removes temporary files a killed writer left behind. */
  async cleanTemp(): Promise<number> {
    let names: string[];
    try {
      names = await fs.readdir(this.tmpDir);
    } catch {
      return 0;
    }
    const mine = names.filter((n) => n.startsWith(`${this.writer}-`) && n.endsWith('.tmp'));
    await Promise.all(mine.map((n) => fs.rm(path.join(this.tmpDir, n), { force: true })));
    return mine.length;
  }

  private async open(hour: HourId, first: S, nowMs: number): Promise<OpenFile<S>> {
    await fs.mkdir(this.tmpDir, { recursive: true });
    const tmp = path.join(this.tmpDir, `${this.writer}-${first}-${process.pid}.ndjson.gz.tmp`);
    const out = createWriteStream(tmp, { highWaterMark: 256 * 1024 });
    out.write(GZIP_HEADER);
    return { hour, first, last: first, records: 0, openedAtMs: nowMs, tmp, out, pending: [], window: undefined, crc: 0, size: 0, compressedBytes: GZIP_HEADER.length, appendedInput: 0 };
  }
}

/** The "\n"-terminated records in `data`. */
function countLines(data: Buffer): number {
  let n = 0;
  for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** CRC-32 (gzip's), continuing from `value`: zlib's own where Node has it (20.15+), else a table. */
export const crc32: (data: Uint8Array, value?: number) => number = zlib.crc32 ?? tableCrc32;

let TABLE: Uint32Array | undefined;

/** The same CRC-32 in JavaScript, for Node releases before zlib.crc32. */
export function tableCrc32(data: Uint8Array, value = 0): number {
  const table = (TABLE ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  }));
  let c = ~value >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
