import { isUtf8 } from 'node:buffer';
import { isDigit, scanKey } from './scan.ts';
import { QUOTE } from '../json-bytes.ts';

/**
 * The streamer's contract for one open_events record. The streamer stores the received bytes
 * as they are, so unknown fields are always kept; it only needs what makes a record usable:
 * a JSON object with a non-empty string `id` (the protocol's ids are always strings, numeric or
 * alphanumeric) and an integer `mtime` in ms since the epoch. Everything else is the ETL's to
 * interpret (see src/source/event.ts for the full record shape).
 */
export interface EventKey {
  id: string;
  /** Last modification, ms since the epoch. */
  mtime: number;
}

/** A record as far as the streamer cares: its key, and any other fields, kept untouched. */
export type StreamRecord = EventKey & Record<string, unknown>;

/** The outcome of validating one framed line. */
export type Validation =
  /** `idAt`/`mtimeAt`: where the id's and the mtime's values start in the line, when the fast scan read it (see isLineOf). */
  | { kind: 'valid'; id: string; mtime: number; idAt?: number; mtimeAt?: number }
  /** Blank lines are keep-alives, not records. */
  | { kind: 'blank' }
  | { kind: 'invalid'; reason: string };

/** Why a record was quarantined: stable prefixes, so reasons can be grouped. */
export const REASONS = {
  oversized: 'oversized record',
  truncated: 'truncated record',
  malformed: 'malformed JSON',
  encoding: 'invalid UTF-8',
  notObject: 'not a JSON object',
  id: 'unusable id',
  mtime: 'unusable mtime',
} as const;

/**
 * Validates one line (without its line terminator). Never throws: anything unusable comes back
 * as `invalid` with a reason that says what is wrong.
 */
export function validateLine(line: Buffer, maxRecordBytes: number): Validation {
  if (line.length > maxRecordBytes) {
    return { kind: 'invalid', reason: `${REASONS.oversized}: ${line.length} bytes > ${maxRecordBytes}` };
  }
  let start = 0;
  while (start < line.length && isSpace(line[start]!)) start++;
  if (start === line.length) return { kind: 'blank' };
  if (!isUtf8(line)) return { kind: 'invalid', reason: REASONS.encoding };
  const key = scanKey(line);
  if (key) return { kind: 'valid', id: key.id, mtime: key.mtime, idAt: key.idAt, mtimeAt: key.mtimeAt };
  // Anything unusual: JSON.parse decides, and says why.
  const text = line.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'invalid', reason: parseFailure(text, error) };
  }
  return validateValue(value);
}

/** Validates an already parsed value against the contract. */
export function validateValue(value: unknown): Validation {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'invalid', reason: `${REASONS.notObject} (${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value})` };
  }
  const { id, mtime } = value as { id?: unknown; mtime?: unknown };
  if (id === undefined) return { kind: 'invalid', reason: `${REASONS.id}: missing` };
  if (typeof id !== 'string') return { kind: 'invalid', reason: `${REASONS.id}: a ${typeof id}, the protocol sends ids as strings` };
  if (id.length === 0 || id.trim() !== id) return { kind: 'invalid', reason: `${REASONS.id}: empty or padded with spaces` };
  if (mtime === undefined) return { kind: 'invalid', reason: `${REASONS.mtime}: missing` };
  if (typeof mtime !== 'number' || !Number.isSafeInteger(mtime) || mtime <= 0) {
    return { kind: 'invalid', reason: `${REASONS.mtime}: ${JSON.stringify(mtime)} is not a positive integer of ms` };
  }
  return { kind: 'valid', id, mtime };
}

/** How much of a rejected line a quarantine entry keeps. */
export const QUARANTINE_KEEP_BYTES = 64 * 1024;

function parseFailure(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // A record cut short (the stream's "truncated lines", a capture's cut-off last line) makes
  // the parser fail at the very end of the text; say so rather than quoting the parser.
  const at = /position (\d+)/.exec(message);
  const atEnd = /Unexpected end of JSON input/.test(message) || (at !== null && Number(at[1]) >= text.trimEnd().length);
  if (atEnd && text.trimStart().startsWith('{')) return `${REASONS.truncated}: JSON ends early`;
  return `${REASONS.malformed}: ${message.length > 200 ? message.slice(0, 200) + '…' : message}`;
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a;
}

/**
 * Whether `line` is the line a record was received in before: the same length, and at the same
 * places the same id (between quotes) and the same mtime (not followed by more of a number) — the
 * places the full scan found that record's top-level id and mtime at (`where`). For a line already
 * known to be a re-sent position (see ResumePlanner.expectedNext) this stands in for the full scan
 * at a small part of its cost: it compares a few dozen bytes, it does not search or allocate.
 * Anything else — other spacing, a different version of the event — answers false, and the line
 * is scanned as usual. It confirms a position, it does not parse: another event at that position
 * would pass only with this one's id and mtime at the very same offsets, and its length.
 */
export function isLineOf(line: Buffer, where: Readonly<{ length: number; id: string; mtime: number; idAt: number; mtimeAt: number }>): boolean {
  const { id, idAt, mtimeAt } = where;
  if (line.length !== where.length || idAt < 1 || mtimeAt < 1) return false;
  const idEnd = idAt + id.length;
  if (line[idAt - 1] !== QUOTE || line[idEnd] !== QUOTE) return false;
  for (let k = 0; k < id.length; k++) if (line[idAt + k] !== id.charCodeAt(k)) return false;
  let mtime = 0;
  let k = mtimeAt;
  for (; k < mtimeAt + 16 && isDigit(line[k]); k++) mtime = mtime * 10 + (line[k]! - 0x30);
  // not followed by more of a number (digits, a fraction, an exponent), nor by the end of the line
  const after = line[k];
  return k > mtimeAt && mtime === where.mtime && after !== undefined && !isDigit(after) && after !== 0x2e && after !== 0x65 && after !== 0x45;
}
