import { constants as zlibConstants, gunzip, gunzipSync, type ZlibOptions } from 'node:zlib';
import { promisify } from 'node:util';
import { BACKSLASH, CLOSE_ARR, CLOSE_OBJ, OPEN_ARR, OPEN_OBJ, QUOTE } from '../json-bytes.ts';

/**
 * Reading raw objects: our own NDJSON(.gz) files and Firehose-style objects, whose records are
 * JSON objects written back to back ("}{"), with or without newlines between them.
 */

const gunzipAsync = promisify<Buffer, ZlibOptions, Buffer>(gunzip);

/** True when the bytes start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * The object's content, gunzipped when it is gzip (detected by magic bytes, not the name).
 * `cutOff: 'keep'` accepts a gzip file that ends early (a capture cut off mid-write) and
 * returns what it holds up to the cut; otherwise that is an error.
 */
export async function decodeObject(bytes: Uint8Array, options: { cutOff?: 'keep' } = {}): Promise<Buffer> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!isGzip(buf)) return buf;
  return options.cutOff === 'keep' ? gunzipAsync(buf, { finishFlush: zlibConstants.Z_SYNC_FLUSH }) : gunzipAsync(buf, {});
}

/**
 * Splits a line holding JSON values back to back ("{...}{...}" or "{...} {...}", as Firehose
 * writes them) with a string-aware bracket scan: each top-level object or array is a piece;
 * text between them that is not whitespace is a piece of its own (the ETL quarantines it); an
 * unclosed tail (an object cut short) is the last piece. A closing bracket with nothing open
 * leaves the line whole: [line]. Pieces are trimmed of JSON whitespace.
 */
export function splitConcatenated(line: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = 0;
  const keep = (piece: Buffer): void => {
    const trimmed = trimSpace(piece);
    if (trimmed.length > 0) pieces.push(trimmed);
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === BACKSLASH) escaped = true;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (depth === 0) {
        keep(line.subarray(start, i));
        start = i;
      }
      depth++;
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
      depth--;
      if (depth === 0) {
        pieces.push(line.subarray(start, i + 1));
        start = i + 1;
      } else if (depth < 0) return [line];
    }
  }
  keep(line.subarray(start));
  return pieces;
}

/** Whether a line may hold values back to back: a '}' followed (after blanks) by a '{'. */
export function mayBeConcatenated(line: Buffer): boolean {
  let at = line.indexOf(CLOSE_OBJ);
  while (at >= 0 && at < line.length - 1) {
    let j = at + 1;
    while (j < line.length && isSpace(line[j]!)) j++;
    if (line[j] === OPEN_OBJ) return true;
    at = line.indexOf(CLOSE_OBJ, at + 1);
  }
  return false;
}

/**
 * The records of a decoded raw object, in order — the one definition of framing, shared by the
 * streamer, import, manifests and the ETL (spark/jobs/framing.py is its Python twin, checked
 * by test/etl/parity.test.ts): a leading byte order mark is dropped; one record per line ("\n",
 * a "\r" before it dropped); lines of only whitespace are skipped; a line holding values back to
 * back is split by splitConcatenated. A record's number is its 1-based position.
 */
export function* splitRecords(content: Buffer): Generator<Buffer> {
  let start = content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf ? 3 : 0;
  while (start < content.length) {
    let nl = content.indexOf(0x0a, start);
    if (nl < 0) nl = content.length;
    let line = content.subarray(start, nl);
    start = nl + 1;
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    if (trimSpace(line).length === 0) continue;
    if (mayBeConcatenated(line)) yield* splitConcatenated(line);
    else yield line;
  }
}

const UTF8 = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * The records of a raw object (gzip or plain) as text, for the ETL: splitRecords, each record
 * decoded as UTF-8 (invalid sequences become U+FFFD).
 */
export function frameRecords(bytes: Uint8Array): string[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  for (const record of splitRecords(isGzip(buf) ? gunzipSync(buf) : buf)) out.push(UTF8.decode(record));
  return out;
}

/** Number of records in a raw object (gzip or plain, NDJSON or Firehose-style). */
export async function countRecords(bytes: Uint8Array): Promise<number> {
  const content = await decodeObject(bytes);
  let n = 0;
  for (const _ of splitRecords(content)) n++;
  return n;
}

/** JSON's whitespace (RFC 8259): space, tab, line feed, carriage return. */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function trimSpace(b: Buffer): Buffer {
  let s = 0;
  let e = b.length;
  while (s < e && isSpace(b[s]!)) s++;
  while (e > s && isSpace(b[e - 1]!)) e--;
  return b.subarray(s, e);
}
