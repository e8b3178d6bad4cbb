import { hourPath, QUARANTINE, type HourId } from './layout.ts';
import type { ObjectStore } from './store.ts';

/**
 * Quarantine objects: `quarantine/YYYY/MM/DD/HH/<writer>-<seq>.ndjson`, one JSON entry per line,
 * by the hour the rejected records arrived (or were imported). `seq` is the writer's sequence
 * number of the first entry, so a retried write replaces rather than duplicates.
 */
export interface QuarantineEntry {
  /** Why it was rejected, e.g. "malformed JSON: ...", "unusable id: missing". */
  reason: string;
  /** ISO-8601 UTC time it arrived. */
  receivedAt: string;
  /** The record's full length in bytes. */
  length: number;
  /** The record as received (UTF-8; its first bytes only when `truncated`). */
  bytes: string;
  /** True when `bytes` holds only the first part of the record. */
  truncated?: true;
  /** Where it came from: the stream URL or the imported file. */
  source?: string;
  /** Line number in `source`, for imports. */
  line?: number;
}

/** The key of a quarantine object. */
export function quarantineKey(hour: HourId, writer: string, seq: number): string {
  return `${QUARANTINE}/${hourPath(hour)}/${writer}-${seq}.ndjson`;
}

/** A quarantine entry for the bytes of a rejected record (kept up to `keepBytes`). */
export function quarantineEntry(
  reason: string,
  bytes: Buffer,
  receivedAtMs: number,
  extra: { length?: number; source?: string; line?: number; keepBytes?: number } = {},
): QuarantineEntry {
  const keep = extra.keepBytes ?? 64 * 1024;
  const length = extra.length ?? bytes.length;
  const entry: QuarantineEntry = {
    reason,
    receivedAt: new Date(receivedAtMs).toISOString(),
    length,
    bytes: bytes.subarray(0, keep).toString('utf8'),
  };
  if (length > Math.min(keep, bytes.length) || bytes.length > keep) entry.truncated = true;
  if (extra.source !== undefined) entry.source = extra.source;
  if (extra.line !== undefined) entry.line = extra.line;
  return entry;
}

/** Writes one quarantine object atomically (the store's put is atomic). */
export async function writeQuarantine(
  store: ObjectStore,
  hour: HourId,
  writer: string,
  seq: number,
  entries: QuarantineEntry[],
): Promise<string> {
  const key = quarantineKey(hour, writer, seq);
  await store.put(key, entries.map((e) => JSON.stringify(e)).join('\n') + '\n', { contentType: 'application/x-ndjson' });
  return key;
}
