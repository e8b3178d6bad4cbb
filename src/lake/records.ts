import { constants as zlibConstants, gunzip, type ZlibOptions } from 'node:zlib';
import { promisify } from 'node:util';

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
 * Splits a line that holds JSON objects back to back ("{...}{...}" or "{...} {...}") into the
 * objects' bytes. A last object that never closes (a Firehose object cut short) comes back as
 * `rest`. Returns undefined unless the line is such a concatenation: at least two objects, or
 * one complete object followed by an unfinished one; anything else at the top level (say
 * "{...}} trailing") leaves the line whole, for the caller to judge. The scan respects strings
 * and escapes, so a "}{" inside a string value does not split.
 */
export function splitConcatenated(line: Buffer): { parts: Buffer[]; rest?: Buffer } | undefined {
  const parts: Buffer[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 0x5c) escaped = true;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (depth === 0) {
      if (c === 0x20 || c === 0x09 || c === 0x0d) continue;
      if (c !== 0x7b) return undefined; // only objects at the top level
      start = i;
      depth = 1;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) parts.push(line.subarray(start, i + 1));
    }
  }
  if (depth !== 0 || inString) {
    if (parts.length === 0) return undefined;
    return { parts, rest: line.subarray(start) };
  }
  return parts.length >= 2 ? { parts } : undefined;
}

/** Cheap pre-check before splitConcatenated: a '}' followed (after blanks) by a '{'. */
export function mayBeConcatenated(line: Buffer): boolean {
  let at = line.indexOf(0x7d);
  while (at >= 0 && at < line.length - 1) {
    let j = at + 1;
    while (j < line.length && (line[j] === 0x20 || line[j] === 0x09)) j++;
    if (line[j] === 0x7b) return true;
    at = line.indexOf(0x7d, at + 1);
  }
  return false;
}

/**
 * The records of a decoded object, in order: one per line, and one per object where a line
 * holds objects back to back. Blank lines are skipped; a trailing "\r" is dropped.
 */
export function* splitRecords(content: Buffer): Generator<Buffer> {
  let start = 0;
  while (start < content.length) {
    let nl = content.indexOf(0x0a, start);
    if (nl < 0) nl = content.length;
    let line = content.subarray(start, nl);
    start = nl + 1;
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    if (isBlank(line)) continue;
    const split = mayBeConcatenated(line) ? splitConcatenated(line) : undefined;
    if (!split) yield line;
    else {
      yield* split.parts;
      if (split.rest) yield split.rest;
    }
  }
}

/** Number of records in a raw object (gzip or plain, NDJSON or Firehose-style). */
export async function countRecords(bytes: Uint8Array): Promise<number> {
  const content = await decodeObject(bytes);
  let n = 0;
  for (const _ of splitRecords(content)) n++;
  return n;
}

function isBlank(line: Buffer): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}
