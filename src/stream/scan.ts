import { BACKSLASH, CLOSE_ARR, CLOSE_OBJ, OPEN_ARR, OPEN_OBJ, QUOTE } from '../json-bytes.ts';
import type { EventKey } from './contract.ts';

/** A key as scanned, with where its values start in the line: the id's first byte (after its quote) and the mtime's first digit. */
export interface ScannedKey extends EventKey {
  idAt: number;
  mtimeAt: number;
}

/**
 * The streamer's hot path: checks that a line is one well-formed JSON object (RFC 8259) and
 * reads its top-level `id` (a string) and `mtime` (an integer), without building the object.
 * Parsing every record with JSON.parse allocates the whole object tree only to throw it away;
 * this scan allocates nothing but the id string.
 *
 * It answers only the common case. Whenever it would have to decide something subtle — the
 * line is not valid JSON, or not an object, a top-level key or the id uses escapes, id or
 * mtime are missing or of another type, nesting is very deep — it returns undefined and the
 * caller falls back to JSON.parse, which gives the authoritative answer and the reason. So a
 * line it accepts is one JSON.parse accepts, with the same id and mtime (test/stream/scan.test.ts
 * checks that against JSON.parse on real, generated and mutated lines). UTF-8 validity is the
 * caller's check (buffer.isUtf8 over the whole line).
 */
export function scanKey(b: Uint8Array): ScannedKey | undefined {
  const n = b.length;
  let i = skipWs(b, 0, n);
  if (b[i] !== OPEN_OBJ) return undefined;
  let depth = 0;
  // What the value about to be read is: 0 anything, 1 the top-level id, 2 the top-level mtime.
  let role = 0;
  // Where the top-level id / mtime values are; later duplicates win, as in JSON.parse.
  let idStart = -1;
  let idEnd = -1;
  let mtimeStart = -1;
  let mtimeEnd = -1;

  for (;;) {
    // Here i is at the start of a value.
    const c = b[i];
    if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (role !== 0 || depth === MAX_DEPTH) return undefined;
      STACK[depth++] = c;
      i = skipWs(b, i + 1, n);
      if (b[i] === (c === OPEN_OBJ ? CLOSE_OBJ : CLOSE_ARR)) {
        depth--;
        i++;
      } else {
        if (c === OPEN_OBJ) {
          i = readMember(b, i, n, depth);
          if (i < 0) return undefined;
          role = depth === 1 ? keyRole : 0;
        } else role = 0;
        continue;
      }
    } else if (c === QUOTE) {
      const e = readString(b, i, n);
      if (e < 0) return undefined;
      if (role === 1) {
        if (stringHadEscape) return undefined; // JSON.parse decodes escaped ids
        idStart = i + 1;
        idEnd = e - 1;
      } else if (role === 2) return undefined;
      i = e;
    } else if (c === MINUS || isDigit(c)) {
      const e = readNumber(b, i, n);
      if (e < 0) return undefined;
      if (role === 2) {
        mtimeStart = i;
        mtimeEnd = e;
      } else if (role === 1) return undefined;
      i = e;
    } else {
      if (role !== 0) return undefined;
      const e = readLiteral(b, i, n);
      if (e < 0) return undefined;
      i = e;
    }

    // After a value: close finished containers, or move on to the next element.
    for (;;) {
      if (depth === 0) return skipWs(b, i, n) === n ? keyOf(b, idStart, idEnd, mtimeStart, mtimeEnd) : undefined;
      i = skipWs(b, i, n);
      const top = STACK[depth - 1];
      const d = b[i];
      if (d === COMMA) {
        i = skipWs(b, i + 1, n);
        if (top === OPEN_OBJ) {
          i = readMember(b, i, n, depth);
          if (i < 0) return undefined;
          role = depth === 1 ? keyRole : 0;
        } else role = 0;
        break;
      }
      if (d === (top === OPEN_OBJ ? CLOSE_OBJ : CLOSE_ARR)) {
        depth--;
        i++;
        continue;
      }
      return undefined;
    }
  }
}

/** Reads `"key" :` at i; returns where the value starts, or -1. Sets keyRole at depth 1. */
function readMember(b: Uint8Array, i: number, n: number, depth: number): number {
  const k = readKey(b, i, n, depth);
  if (k < 0) return -1;
  const colon = skipWs(b, k, n);
  if (b[colon] !== COLON) return -1;
  return skipWs(b, colon + 1, n);
}

const COLON = 0x3a;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const MAX_DEPTH = 256;
const STACK = new Uint8Array(MAX_DEPTH);

/** Set by readString: whether the string just read contained a backslash escape. */
let stringHadEscape = false;
/** Set by readKey at depth 1: 1 for "id", 2 for "mtime", 0 otherwise. */
let keyRole = 0;

function skipWs(b: Uint8Array, i: number, n: number): number {
  while (i < n) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    i++;
  }
  return i;
}

/** Reads a string starting at the quote at i; returns the index after its closing quote, or -1. */
function readString(b: Uint8Array, i: number, n: number): number {
  let escaped = false;
  let j = i + 1;
  while (j < n) {
    const c = b[j]!;
    if (c === QUOTE) {
      stringHadEscape = escaped;
      return j + 1;
    }
    if (c === BACKSLASH) {
      escaped = true;
      const e = b[j + 1];
      if (e === 0x75) {
        // \uXXXX
        if (j + 5 >= n) return -1;
        for (let k = j + 2; k < j + 6; k++) if (!isHex(b[k]!)) return -1;
        j += 6;
        continue;
      }
      if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
        j += 2;
        continue;
      }
      return -1;
    }
    if (c < 0x20) return -1;
    j++;
    // The plain run of a string is most of a record's bytes: skip it with a table lookup per byte.
    while (j < n && PLAIN[b[j]!] === 1) j++;
  }
  return -1;
}

/** 1 for bytes that may appear unescaped inside a string and need no attention: not '"', '\\' or a control character. */
const PLAIN = new Uint8Array(256).map((_, c) => (c >= 0x20 && c !== QUOTE && c !== BACKSLASH ? 1 : 0));

/** Reads an object key at i (must be a string); sets keyRole at depth 1. Returns the index after it, or -1. */
function readKey(b: Uint8Array, i: number, n: number, depth: number): number {
  if (b[i] !== QUOTE) return -1;
  const e = readString(b, i, n);
  if (e < 0) return -1;
  if (depth !== 1) return e;
  // An escaped top-level key might spell "id" or "mtime": JSON.parse decides those.
  if (stringHadEscape) return -1;
  const len = e - i - 2;
  if (len === 2 && b[i + 1] === 0x69 && b[i + 2] === 0x64) keyRole = 1;
  else if (len === 5 && b[i + 1] === 0x6d && b[i + 2] === 0x74 && b[i + 3] === 0x69 && b[i + 4] === 0x6d && b[i + 5] === 0x65) keyRole = 2;
  else keyRole = 0;
  return e;
}

/** Reads a JSON number at i; returns the index after it, or -1. */
function readNumber(b: Uint8Array, i: number, n: number): number {
  let j = i;
  if (b[j] === MINUS) j++;
  if (b[j] === DIGIT_0) j++;
  else if (isDigit1to9(b[j])) {
    j++;
    while (j < n && isDigit(b[j])) j++;
  } else return -1;
  if (b[j] === 0x2e) {
    j++;
    if (!isDigit(b[j])) return -1;
    while (j < n && isDigit(b[j])) j++;
  }
  if (b[j] === 0x65 || b[j] === 0x45) {
    j++;
    if (b[j] === 0x2b || b[j] === MINUS) j++;
    if (!isDigit(b[j])) return -1;
    while (j < n && isDigit(b[j])) j++;
  }
  return j;
}

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

function readLiteral(b: Uint8Array, i: number, n: number): number {
  const word = b[i] === 0x74 ? TRUE : b[i] === 0x66 ? FALSE : b[i] === 0x6e ? NULL : undefined;
  if (!word || i + word.length > n) return -1;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word[k]) return -1;
  return i + word.length;
}

function keyOf(b: Uint8Array, idStart: number, idEnd: number, mtimeStart: number, mtimeEnd: number): ScannedKey | undefined {
  if (idStart < 0 || mtimeStart < 0 || idEnd <= idStart) return undefined;
  let mtime = 0;
  let plain = mtimeEnd - mtimeStart <= 15;
  for (let k = mtimeStart; plain && k < mtimeEnd; k++) {
    const c = b[k]!;
    if (c < DIGIT_0 || c > DIGIT_9) plain = false;
    else mtime = mtime * 10 + (c - DIGIT_0);
  }
  // Fractions, exponents, signs and long numbers take the slow path (JSON.parse semantics).
  if (!plain || mtime <= 0) return undefined;
  const id = Buffer.from(b.buffer, b.byteOffset + idStart, idEnd - idStart).toString('utf8');
  // Leading/trailing spaces make an id unusable; the slow path says so.
  if (id.trim() !== id) return undefined;
  return { id, mtime, idAt: idStart, mtimeAt: mtimeStart };
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

export function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= DIGIT_0 && c <= DIGIT_9;
}

function isDigit1to9(c: number | undefined): boolean {
  return c !== undefined && c >= 0x31 && c <= DIGIT_9;
}
