import { getJson, type ObjectStore } from '../lake/store.ts';
import { STATE, type HourId } from '../lake/layout.ts';

/**
 * The streamer's checkpoint, `_state/stream/<writer>.json`. It is written only after the data
 * it describes is durable, so it never claims more than the lake holds; files written after
 * it (a crash between publishing a file and saving the checkpoint) are found again at start-up
 * by their names (`<writer>-<first>-<last>`, first ≥ nextSeq) and folded back in.
 */
export interface StreamCheckpoint {
  version: 1;
  writer: string;
  /** Sequence number the next raw record gets. */
  nextSeq: number;
  /** Sequence number the next quarantined record gets. */
  nextQuarantineSeq: number;
  /** Highest mtime among durable records, or null before the first one. */
  highestMtime: number | null;
  /** The arrival hour of the newest durable file (where a crash's orphans can start). */
  lastHour: HourId | null;
  /** Hours this writer wrote to that have no manifest yet, with its files' record counts. */
  openHours: Record<HourId, Array<{ key: string; records: number }>>;
  /** The dedupe window: { "<mtime>": ["<id>", ...] } (see DedupeWindow). */
  dedupe: Record<string, string[]>;
  /** The stream URL last read (for operators; resuming uses highestMtime). */
  url: string;
  updatedAt: string;
}

/** The checkpoint's key in the lake. */
export function checkpointKey(writer: string): string {
  return `${STATE}/stream/${writer}.json`;
}

export function loadCheckpoint(store: ObjectStore, writer: string): Promise<StreamCheckpoint | undefined> {
  return getJson<StreamCheckpoint>(store, checkpointKey(writer));
}

/** Writes the checkpoint atomically (temporary name + rename, or one PUT); compact, as the window can be large. */
export function saveCheckpoint(store: ObjectStore, checkpoint: StreamCheckpoint): Promise<void> {
  return store.put(checkpointKey(checkpoint.writer), JSON.stringify(checkpoint) + '\n', { contentType: 'application/json' });
}

/** Writer ids name files and checkpoints: letters, digits, '_' and '-', starting with a letter or digit. */
export const WRITER_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
