import { gunzipSync } from 'node:zlib';

/**
 * Splits a raw lake object into records, the same way spark/jobs/framing.py does:
 *   - gzip is detected by its magic bytes (not the name); multi-member gzip is read whole;
 *   - bytes are UTF-8 (invalid sequences become U+FFFD), a leading BOM is dropped;
 *   - one record per line ('\n', an optional '\r' before it is dropped), blank lines skipped;
 *   - a line holding several JSON objects back to back (Firehose's `}{`, with or without
 *     whitespace between them) is split into its objects by a string-aware brace scan; text
 *     between objects that is not whitespace becomes a record of its own (and is quarantined).
 * A record's number is its 1-based position among the object's records.
 */
export function frameRecords(bytes: Uint8Array): string[] {
  const data = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  let text = new TextDecoder('utf-8').decode(data);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const out: string[] = [];
  for (let line of text.split('\n')) {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    if (CONCATENATED.test(line)) out.push(...splitConcatenated(line));
    else out.push(line);
  }
  return out;
}

const CONCATENATED = /\}[ \t\r\n]*\{/;

/** Splits `{..}{..}` into objects; unbalanced tails and stray text are kept as records. */
export function splitConcatenated(line: string): string[] {
  const pieces: string[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth === 0) {
        const stray = line.slice(start, i).trim();
        if (stray !== '') pieces.push(stray);
        start = i;
      }
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) {
        pieces.push(line.slice(start, i + 1));
        start = i + 1;
      } else if (depth < 0) {
        // Not JSON we can frame: keep the whole line as one record.
        return [line];
      }
    }
  }
  const rest = line.slice(start).trim();
  if (rest !== '') pieces.push(rest);
  return pieces;
}
