import { isUtf8 } from 'node:buffer';
import { scanKey } from './scan.ts';

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
  | { kind: 'valid'; id: string; mtime: number }
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
  if (key) return { kind: 'valid', id: key.id, mtime: key.mtime };
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
 * Whether `line`, of the length the record's line had, is that record's line again: it holds
 * `"id":<id>` and `"mtime":<mtime>` as the compact JSON the protocol sends writes them. For a
 * line already known to be a re-sent position (see ResumePlanner.expectedNext) this stands in for
 * the full scan at a small part of its cost; anything else — other spacing or escaping, a
 * different version of the event — answers false, and the line is scanned as usual. It confirms
 * a position, it does not parse: another event at that position would pass only with this one's
 * id nested in it as a string (the protocol's nested ids are numbers), its mtime and its length.
 */
export function isLineOf(line: Buffer, length: number, id: string, mtime: number): boolean {
  if (line.length !== length) return false;
  const m = `"mtime":${mtime}`;
  const at = line.indexOf(m);
  if (at < 0) return false;
  const after = line[at + m.length];
  if (after === undefined || (after >= 0x30 && after <= 0x39) || after === 0x2e || after === 0x65 || after === 0x45) return false;
  return line.indexOf(`"id":${JSON.stringify(id)}`) >= 0;
}
