import { readFile } from 'node:fs/promises';
import { UserError, isErrnoCode } from '../errors.ts';
import { decodeObject } from '../lake/records.ts';
import type { Feed } from './feed.ts';

/** One line of a capture that the server will serve, with what since_* catch-up needs. */
export interface CaptureRecord {
  /** The line's exact bytes, without its line terminator. */
  bytes: Buffer;
  /** Undefined when the line is not a record with a string id and a numeric mtime. */
  id: string | undefined;
  mtime: number;
}

/**
 * Splits a capture into the lines a stream served. A capture is NDJSON as written by a client of
 * the real stream, so it may start with the raw HTTP response head and carry chunk-size lines and
 * blank keep-alives: a line that does not start with `{` is framing, not data, and is skipped. A
 * last record line that does not parse is the capture's cut-off end and is skipped too. Every
 * other line is kept byte-for-byte, even one that does not parse mid-file: that is what the
 * stream sent, and the consumer must cope with it.
 */
export function parseCapture(data: Buffer): CaptureRecord[] {
  const records: CaptureRecord[] = [];
  // A UTF-8 byte order mark is file framing too (editors add it), not part of the first record.
  let start = data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf ? 3 : 0;
  while (start < data.length) {
    let end = data.indexOf(0x0a, start);
    const terminated = end !== -1;
    if (!terminated) end = data.length;
    let stop = end;
    if (stop > start && data[stop - 1] === 0x0d) stop -= 1; // CRLF framing is not part of the record
    const bytes = data.subarray(start, stop);
    start = end + 1;
    let first = 0;
    while (first < bytes.length && (bytes[first] === 0x20 || bytes[first] === 0x09)) first += 1;
    if (bytes[first] !== 0x7b /* { */) continue;
    const parsed = parseRecordHead(bytes);
    records.push({ bytes, id: parsed?.id, mtime: parsed?.mtime ?? Number.NaN });
  }
  // The cut-off end of a capture: the last record line does not parse (with or without a newline).
  const last = records.at(-1);
  if (last && last.id === undefined && !parses(last.bytes)) records.pop();
  return records;
}

function parses(bytes: Buffer): boolean {
  try {
    JSON.parse(bytes.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

function parseRecordHead(bytes: Buffer): { id: string; mtime: number } | undefined {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof value !== 'object' || value === null) return undefined;
    const { id, mtime } = value as { id?: unknown; mtime?: unknown };
    if (typeof id !== 'string' || id === '' || typeof mtime !== 'number' || !Number.isFinite(mtime)) return undefined;
    return { id, mtime };
  } catch {
    return undefined;
  }
}

/** Reads captures (in the order given; gzipped or not) into one feed. */
export async function loadReplayFeed(files: readonly string[]): Promise<Feed> {
  const records: CaptureRecord[] = [];
  for (const file of files) {
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (error) {
      if (isErrnoCode(error, 'ENOENT')) throw new UserError(`capture not found: ${file}`, { hint: 'pass an NDJSON file to --replay' });
      throw new UserError(`cannot read capture ${file}: ${(error as Error).message}`, { cause: error });
    }
    const found = parseCapture(await decodeObject(data, { cutOff: 'keep' }));
    if (found.length === 0) {
      throw new UserError(`no records in capture ${file}`, { hint: 'a capture is NDJSON (optionally gzipped): one JSON object per line' });
    }
    for (const record of found) records.push(record);
  }
  return replayFeed(records);
}

/** A feed over already parsed capture records. */
export function replayFeed(records: readonly CaptureRecord[]): Feed {
  let produced = 0;
  return {
    size: () => produced,
    produce: () => (produced < records.length ? (produced += 1, true) : false),
    line: (i) => records[i]!.bytes,
    id: (i) => records[i]!.id,
    mtime: (i) => records[i]!.mtime,
  };
}
