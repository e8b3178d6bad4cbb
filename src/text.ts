/** Text helpers shared by the stages: stream-derived strings on their way to a terminal. */

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
