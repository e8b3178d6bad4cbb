import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { errorMessage } from '../errors.ts';
import { validateLine, REASONS, QUARANTINE_KEEP_BYTES, type Validation } from '../stream/contract.ts';
import { hourIdOf, hourOfKey, manifestKey, QUARANTINE, RAW, rawObjectKey, type HourId } from './layout.ts';
import { closeHour, hourIsDue, isRawDataKey } from './manifest.ts';
import { quarantineEntry, writeQuarantine, type QuarantineEntry } from './quarantine.ts';
import { decodeObject, mayBeConcatenated, splitConcatenated } from './records.ts';
import type { ObjectStore } from './store.ts';

const gzipAsync = promisify(gzip);

/** How imported records are put into hours. */
export type PartitionBy = 'arrival' | 'mtime';

export interface ImportOptions {
  /** Called every 20,000 lines with the lines read so far, for progress on a long file. */
  onLines?: (lines: number) => void;
  /** `arrival`: all records in `arrivalHour`; `mtime`: each record in the hour of its mtime. */
  partitionBy: PartitionBy;
  /** Names the objects (`<writer>-<first>-<last>.ndjson.gz`); the same writer and input give the same names. */
  writer: string;
  /** The clock (ms): the default arrival hour, manifests' closedAt, which hours are due. */
  now?: number;
  /** The arrival hour for `arrival` partitioning (default: the hour of `now`). */
  arrivalHour?: HourId;
  /** Records larger than this are quarantined (default 1 MiB). */
  maxRecordBytes?: number;
  /** Start a new object once an hour's pending records reach this many (uncompressed) bytes. Default 64 MiB. */
  rotateBytes?: number;
  /** Where the lines came from, for quarantine entries. */
  source?: string;
  /** Close (write manifests of) touched hours that ended this long ago. Default 5 min. */
  hourGraceMs?: number;
  /** Delete this writer's objects that this import did not write (a re-import replaces). Default true. */
  replace?: boolean;
  /** Write the manifests of touched hours that are due (or already closed). Default true. */
  closeHours?: boolean;
}

/** What an import did. */
export interface ImportResult {
  writer: string;
  source?: string;
  /** Valid records written. */
  records: number;
  /** Records quarantined (bad JSON, no usable id/mtime, oversized). */
  quarantined: number;
  /** Lines skipped on purpose: HTTP header lines at the start, a cut-off last line, blank lines. */
  skipped: { headers: number; cutOff: number; blank: number };
  /** Raw objects written, in order. */
  objects: string[];
  /** Quarantine objects written. */
  quarantineObjects: string[];
  /** Hours that received records, sorted. */
  hours: HourId[];
  /** Hours whose manifest was (re)written. */
  closedHours: HourId[];
  /** Objects of earlier imports by the same writer that this one replaced. */
  removed: string[];
  /** Why the file was not imported at all (importFiles: unreadable, truncated or corrupt gzip). */
  error?: string;
}

interface HourBuffer {
  parts: Buffer[];
  bytes: number;
  /** Sequence numbers of the first and last record (they name the object; with mtime partitioning other hours' records fall between). */
  first: number;
  last: number;
  records: number;
}

const NL = Buffer.from('\n');
const HEADER_LINE = /^(HTTP\/\d(\.\d)?\s+\d{3}|[A-Za-z][A-Za-z0-9-]*:\s|[0-9a-fA-F]{1,8}\s*$)/;

/**
 * Imports records into the raw lake: one record per line, or several back to back ("}{", as
 * Kinesis Data Firehose writes them). Lines before the first record that look like HTTP headers,
 * and a cut-off last line, are skipped; other bad lines are quarantined with the reason.
 * Objects are named from `writer` and the records' positions in the input, so importing the
 * same input with the same writer again replaces the objects instead of duplicating them.
 */
export async function importLines(
  store: ObjectStore,
  lines: AsyncIterable<string | Buffer> | Iterable<string | Buffer>,
  options: ImportOptions,
): Promise<ImportResult> {
  const nowMs = options.now ?? Date.now();
  const maxRecordBytes = options.maxRecordBytes ?? 1024 * 1024;
  const rotateBytes = options.rotateBytes ?? 64 * 1024 * 1024;
  const arrivalHour = options.arrivalHour ?? hourIdOf(nowMs);
  const result: ImportResult = { ...emptyResult(options.writer), ...(options.source !== undefined ? { source: options.source } : {}) };
  const buffers = new Map<HourId, HourBuffer>();
  const counts = new Map<string, number>();
  const quarantine: Array<{ entry: QuarantineEntry }> = [];
  let seq = 0;
  let lineNo = 0;
  let seenRecord = false;
  let pendingBad: { line: Buffer; lineNo: number; reason: string; length: number } | undefined;

  const flushHour = async (hour: HourId, buffer: HourBuffer): Promise<void> => {
    if (buffer.parts.length === 0) return;
    const key = rawObjectKey(hour, options.writer, buffer.first, buffer.last);
    await store.put(key, await gzipAsync(Buffer.concat(buffer.parts), { level: 1 }), { contentType: 'application/x-ndjson' });
    counts.set(key, buffer.records);
    result.objects.push(key);
    buffers.delete(hour);
  };

  const accept = async (bytes: Buffer, v: Extract<Validation, { kind: 'valid' }>): Promise<void> => {
    seq++;
    result.records++;
    seenRecord = true;
    const hour = options.partitionBy === 'mtime' ? hourIdOf(v.mtime) : arrivalHour;
    let buffer = buffers.get(hour);
    if (!buffer) buffers.set(hour, (buffer = { parts: [], bytes: 0, first: seq, last: seq, records: 0 }));
    buffer.parts.push(bytes, NL);
    buffer.bytes += bytes.length + 1;
    buffer.last = seq;
    buffer.records++;
    if (!result.hours.includes(hour)) result.hours.push(hour);
    if (buffer.bytes >= rotateBytes) await flushHour(hour, buffer);
  };

  const reject = (bytes: Buffer, no: number, reason: string, length = bytes.length): void => {
    quarantine.push({ entry: quarantineEntry(reason, bytes, nowMs, { length, line: no, keepBytes: QUARANTINE_KEEP_BYTES, ...(options.source !== undefined ? { source: options.source } : {}) }) });
    result.quarantined++;
  };

  for await (const item of lines) {
    lineNo++;
    if (lineNo % 20_000 === 0) options.onLines?.(lineNo);
    let line = typeof item === 'string' ? Buffer.from(item) : item;
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    // A byte order mark starts a file (or a file appended to another); it is no part of a record.
    if (line[0] === 0xef && line[1] === 0xbb && line[2] === 0xbf) line = line.subarray(3);
    // The previous bad line was not the last one, so it is quarantined rather than skipped.
    if (pendingBad) {
      reject(pendingBad.line, pendingBad.lineNo, pendingBad.reason, pendingBad.length);
      pendingBad = undefined;
    }
    const v = validateLine(line, maxRecordBytes);
    if (v.kind === 'valid') {
      await accept(line, v);
      continue;
    }
    if (v.kind === 'blank') {
      result.skipped.blank++;
      continue;
    }
    if (!seenRecord && HEADER_LINE.test(line.subarray(0, 200).toString('latin1'))) {
      result.skipped.headers++;
      continue;
    }
    const pieces = mayBeConcatenated(line) ? splitConcatenated(line) : [line];
    if (pieces.length > 1) {
      for (const part of pieces) {
        const pv = validateLine(part, maxRecordBytes);
        if (pv.kind === 'valid') await accept(part, pv);
        else if (pv.kind === 'invalid') reject(part, lineNo, pv.reason);
      }
      continue;
    }
    pendingBad = { line, lineNo, reason: v.reason, length: line.length };
  }
  if (pendingBad) {
    if (pendingBad.reason.startsWith(REASONS.truncated)) result.skipped.cutOff++;
    else reject(pendingBad.line, pendingBad.lineNo, pendingBad.reason, pendingBad.length);
  }
  for (const [hour, buffer] of [...buffers]) await flushHour(hour, buffer);

  if (quarantine.length > 0) {
    const hour = arrivalHour;
    const chunk = 10_000;
    for (let i = 0; i < quarantine.length; i += chunk) {
      const entries = quarantine.slice(i, i + chunk).map((q) => q.entry);
      result.quarantineObjects.push(await writeQuarantine(store, hour, options.writer, i + 1, entries));
    }
  }
  result.hours.sort();

  const touched = new Set(result.hours);
  if (options.replace ?? true) {
    const removed = await removeStale(store, new Map([[options.writer, new Set([...result.objects, ...result.quarantineObjects])]]));
    result.removed = removed;
    for (const key of removed) {
      const hour = hourOfKey(key);
      if (hour && key.startsWith(`${RAW}/`)) touched.add(hour);
    }
  }
  if (options.closeHours ?? true) result.closedHours = await closeTouched(store, touched, nowMs, options.hourGraceMs ?? 5 * 60_000, counts);
  return result;
}

/** Options of importFiles: those of importLines except what each file determines itself. */
export type ImportFilesOptions = Omit<ImportOptions, 'writer' | 'arrivalHour' | 'source' | 'replace' | 'closeHours' | 'onLines'> & {
  /** Called as the import advances (each file, and every 20,000 lines of a long one). */
  onProgress?: (progress: ImportProgress) => void;
};

/** How far an import is: files and input bytes (as stored) done of the total, records written so far. */
export interface ImportProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  records: number;
  quarantined: number;
  /** The file being read. */
  file?: string;
}

/**
 * Imports captures (NDJSON, optionally gzipped) and Firehose bucket copies (folders of
 * YYYY/MM/DD/HH/... objects). A file's arrival hour is the YYYY/MM/DD/HH folder it sits in,
 * else the current hour. Each file's writer is `imp-` + a hash of its content, partitioning and
 * folder hour, so importing the same file again replaces its objects. A file that cannot be
 * read whole (a truncated or corrupt gzip, no permission) is not imported at all — its result
 * carries the `error` — and the files after it are: importing a readable part now would leave
 * records a later import of the mended file (another content, another writer) duplicates.
 */
export async function importFiles(store: ObjectStore, inputs: readonly string[], options: ImportFilesOptions): Promise<ImportResult[]> {
  const nowMs = options.now ?? Date.now();
  const files: string[] = [];
  for (const input of inputs) files.push(...(await expand(path.resolve(input))));
  const results: ImportResult[] = [];
  const kept = new Map<string, Set<string>>();
  const sizes = await Promise.all(files.map(async (f) => (await fs.stat(f).catch(() => undefined))?.size ?? 0));
  const progress: ImportProgress = { filesDone: 0, filesTotal: files.length, bytesDone: 0, bytesTotal: sizes.reduce((a, b) => a + b, 0), records: 0, quarantined: 0 };
  const advance = (i: number): void => {
    progress.filesDone = i + 1;
    progress.bytesDone += sizes[i] ?? 0;
    const r = results.at(-1);
    progress.records += r?.records ?? 0;
    progress.quarantined += r?.quarantined ?? 0;
    options.onProgress?.({ ...progress });
  };
  for (const [i, file] of files.entries()) {
    let content: Buffer;
    try {
      content = await decodeObject(await fs.readFile(file));
    } catch (error) {
      results.push({ ...emptyResult(''), source: file, error: unreadable(error) });
      advance(i);
      continue;
    }
    const folderHour = hourOfKey(file.split(path.sep).join('/'));
    const hash = createHash('sha256').update(`${options.partitionBy}\n${folderHour ?? ''}\n`).update(content).digest('hex').slice(0, 12);
    const writer = `imp-${hash}`;
    const result = await importLines(store, splitLines(content), {
      ...options,
      now: nowMs,
      writer,
      source: file,
      replace: false,
      ...(folderHour ? { arrivalHour: folderHour } : {}),
      // Manifests are written once, below, after stale objects are gone.
      closeHours: false,
      onLines: () => options.onProgress?.({ ...progress, file }),
    });
    results.push(result);
    advance(i);
    const set = kept.get(writer) ?? new Set<string>();
    for (const key of [...result.objects, ...result.quarantineObjects]) set.add(key);
    kept.set(writer, set);
  }
  const removed = await removeStale(store, kept);
  const touched = new Set(results.flatMap((r) => r.hours));
  for (const key of removed) {
    const hour = hourOfKey(key);
    if (hour && key.startsWith(`${RAW}/`)) touched.add(hour);
  }
  for (const r of results) r.removed = removed.filter((k) => k.slice(k.lastIndexOf('/') + 1).startsWith(`${r.writer}-`));
  const counts = new Map<string, number>();
  const closed = await closeTouched(store, touched, nowMs, options.hourGraceMs ?? 5 * 60_000, counts);
  for (const r of results) r.closedHours = closed.filter((h) => r.hours.includes(h));
  return results;
}

function emptyResult(writer: string): ImportResult {
  return {
    writer,
    records: 0,
    quarantined: 0,
    skipped: { headers: 0, cutOff: 0, blank: 0 },
    objects: [],
    quarantineObjects: [],
    hours: [],
    closedHours: [],
    removed: [],
  };
}

/** Why a file (a capture, a raw object) could not be read whole, in a few words. */
export function unreadable(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = errorMessage(error);
  if (code === 'Z_BUF_ERROR') return 'truncated gzip: the file ends before its compressed data does';
  if (typeof code === 'string' && code.startsWith('Z_')) return `corrupt gzip: ${message}`;
  return `cannot read it: ${message}`;
}

/** The lines of a decoded object, as subarrays (no copy). */
export function* splitLines(content: Buffer): Generator<Buffer> {
  let start = 0;
  while (start < content.length) {
    let nl = content.indexOf(0x0a, start);
    if (nl < 0) nl = content.length;
    yield content.subarray(start, nl);
    start = nl + 1;
  }
}

/** Files under the inputs (folders walked recursively, `.`/`_`-prefixed names skipped), sorted. */
async function expand(input: string): Promise<string[]> {
  const stat = await fs.stat(input);
  if (!stat.isDirectory()) return [input];
  const out: string[] = [];
  const entries = (await fs.readdir(input, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name.startsWith('_')) continue;
    const full = path.join(input, entry.name);
    if (entry.isDirectory()) out.push(...(await expand(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** Deletes raw and quarantine objects of these writers that are not in their kept sets. */
async function removeStale(store: ObjectStore, kept: ReadonlyMap<string, ReadonlySet<string>>): Promise<string[]> {
  const removed: string[] = [];
  for (const prefix of [`${RAW}/`, `${QUARANTINE}/`]) {
    for await (const info of store.list(prefix)) {
      if (!isRawDataKey(info.key)) continue;
      const name = info.key.slice(info.key.lastIndexOf('/') + 1);
      for (const [writer, keys] of kept) {
        if (!name.startsWith(`${writer}-`) || keys.has(info.key)) continue;
        const rest = name.slice(writer.length + 1);
        if (!/^\d+(-\d+)?\.ndjson(\.gz)?$/.test(rest)) continue;
        await store.delete(info.key);
        removed.push(info.key);
      }
    }
  }
  return removed;
}

/** (Re)writes the manifests of touched hours that are due, or that already had one. */
async function closeTouched(store: ObjectStore, hours: ReadonlySet<HourId>, nowMs: number, graceMs: number, counts: Map<string, number>): Promise<HourId[]> {
  const closed: HourId[] = [];
  for (const hour of [...hours].sort()) {
    if (!hourIsDue(hour, nowMs, graceMs) && !(await store.get(manifestKey(hour)))) continue;
    await closeHour(store, hour, nowMs, counts);
    closed.push(hour);
  }
  return closed;
}
