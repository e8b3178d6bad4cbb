import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import path from 'node:path';
import { createGzip, constants as zlibConstants, type Gzip, type ZlibOptions } from 'node:zlib';
import { rawObjectKey, type HourId } from './layout.ts';
import type { ObjectStore } from './store.ts';

/** Bytes the compressor may have queued before write() asks the caller to wait for 'drain'. */
const WRITE_AHEAD_BYTES = 2 * 1024 * 1024;

/** A raw object once it is durable in the lake. */
export interface RawFile {
  key: string;
  hour: HourId;
  /** Sequence numbers of its first and last record. */
  first: number;
  last: number;
  records: number;
  /** Compressed size. */
  bytes: number;
}

interface OpenFile {
  hour: HourId;
  first: number;
  last: number;
  records: number;
  openedAtMs: number;
  tmp: string;
  gzip: Gzip;
  out: WriteStream;
  compressedBytes: number;
}

/**
 * Writes one raw object at a time: records are gzipped (level 1, on zlib's thread pool, so
 * compression runs beside the reader) into a temporary file, and `close()` moves the finished
 * file into the lake under its deterministic name `<writer>-<first>-<last>.ndjson.gz` in its
 * arrival hour — atomically, through the store. Until then nothing is visible in the lake.
 */
export class RawWriter {
  private file: OpenFile | undefined;

  constructor(
    private readonly store: ObjectStore,
    readonly writer: string,
    /** Folder for temporary files; on the lake's filesystem when it is local (rename, no copy). */
    readonly tmpDir: string,
    private readonly level = 1,
  ) {}

  /** The open file's hour, first sequence, record count, age and compressed size so far. */
  get current(): Readonly<Pick<OpenFile, 'hour' | 'first' | 'last' | 'records' | 'openedAtMs' | 'compressedBytes'>> | undefined {
    return this.file;
  }

  /**
   * Appends records (their bytes, each followed by "\n") with sequence numbers first..last.
   * Resolves at once while the compressor's queue is under WRITE_AHEAD_BYTES, else when it
   * has room again (which is how a slow disk slows the reader).
   * `consumed` is called when `data` may be reused (also if the file is discarded).
   */
  async write(hour: HourId, first: number, last: number, data: Buffer, nowMs: number, consumed?: () => void): Promise<void> {
    let file = this.file;
    if (file && file.hour !== hour) throw new Error(`raw writer: open file is for ${file.hour}, not ${hour}`);
    if (!file) file = this.file = await this.open(hour, first, nowMs);
    if (first !== file.last + 1 && file.records > 0) throw new Error(`raw writer: sequence gap ${file.last} → ${first}`);
    file.last = last;
    file.records += last - first + 1;
    // `consumed` runs once the compressor is done with `data`, so the caller may reuse it.
    if (!file.gzip.write(data, consumed ? () => consumed() : undefined)) await once(file.gzip, 'drain');
  }

  /** Finishes the open file and moves it into the lake; undefined when none is open. */
  async close(): Promise<RawFile | undefined> {
    const file = this.file;
    if (!file) return undefined;
    this.file = undefined;
    file.gzip.end();
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
    file.gzip.destroy();
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

  private async open(hour: HourId, first: number, nowMs: number): Promise<OpenFile> {
    await fs.mkdir(this.tmpDir, { recursive: true });
    const tmp = path.join(this.tmpDir, `${this.writer}-${first}-${process.pid}.ndjson.gz.tmp`);
    // The write queue must hold the caller's in-flight batches (the streamer's pool of three
    // buffers): with the default 16 KiB every write returned false, the reader waited for
    // 'drain', and framing never overlapped compression (a quarter of the throughput lost).
    // Memory stays bounded by the caller's pool. zlib streams take Transform options, though
    // ZlibOptions does not list them.
    const gzip = createGzip({ level: this.level, chunkSize: 256 * 1024, flush: zlibConstants.Z_NO_FLUSH, writableHighWaterMark: WRITE_AHEAD_BYTES } as ZlibOptions);
    const out = createWriteStream(tmp, { highWaterMark: 256 * 1024 });
    const file: OpenFile = { hour, first, last: first - 1, records: 0, openedAtMs: nowMs, tmp, gzip, out, compressedBytes: 0 };
    gzip.on('data', (chunk: Buffer) => (file.compressedBytes += chunk.length));
    gzip.pipe(out);
    gzip.on('error', (error) => out.destroy(error));
    return file;
  }
}
