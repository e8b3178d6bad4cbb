/**
 * Text helpers shared by the stages: stream-derived strings on their way to a terminal.
 * `escapeTerminal` shows control characters as escapes (query output: nothing hidden, nothing
 * interpreted); `sanitize` drops them (the monitor: one record, one clean row).
 */

/**
 * Makes stream-derived text safe for a terminal: control characters (C0, DEL, C1, and the
 * bidi/line separators) are shown as escapes instead of being interpreted.
 */
export function escapeTerminal(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/**
 * Makes a string safe to put on a terminal. Stream-derived text (event names, log messages,
 * error messages, file names) can carry escape sequences that would move the cursor, change
 * the title or hide output; they are dropped, and line breaks and tabs become spaces so one
 * record stays on one row.
 */
// CSI/OSC/DCS sequences first (so their parameters go too), then any remaining control character:
// C0 (except none), DEL, and C1 (0x80–0x9f, which some terminals treat as 8-bit CSI).
// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[PX^_][^\u001b]*(?:\u001b\\)?|\u009b[0-?]*[ -/]*[@-~]|\u001b.?/g;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// Bidirectional overrides can reorder what the operator reads.
const BIDI = /[\u202a-\u202e\u2066-\u2069]/g;

/** Strips escape sequences and control characters; tabs and line breaks become single spaces. */
export function sanitize(value: unknown, maxLength = 2000): string {
  const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  const clean = text.replace(ESCAPES, '').replace(/[\t\n\r]+/g, ' ').replace(CONTROLS, '').replace(BIDI, '');
  return clean.length > maxLength ? clean.slice(0, maxLength - 1) + '…' : clean;
}
