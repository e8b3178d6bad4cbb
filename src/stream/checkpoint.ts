import { getJson, type ObjectStore } from '../lake/store.ts';
import { STATE, type HourId } from '../lake/layout.ts';

/**
 * The streamer's checkpoint, `_state/stream/<writer>.json`, in the lake whatever the sink. It is
 * written only after the sink said the records it describes are durable, so it never claims more
 * than is stored; records a sink made durable after it (a crash between the two) the sink finds
 * again when it opens (the lake sink: by file name, `<writer>-<first>-<last>` with first ≥ nextSeq).
 */
export interface StreamCheckpoint {
  version: 2;
  writer: string;
  /** Sequence number the next record gets: every record below it is durable. */
  nextSeq: number;
  /** Sequence number the next quarantined record gets. */
  nextQuarantineSeq: number;
  /** Highest mtime among durable records, or null before the first one. */
  highestMtime: number | null;
  /** The arrival hour quarantine was last written to (where a crash's unrecorded quarantine files can start). */
  quarantineHour: HourId | null;
  /** The sink that made them durable, and its own state (the lake sink: its open hours). */
  sink: { kind: string; state: unknown };
  /** The dedupe window of durable records: { "<mtime>": ["<id>", ...] } (see DedupeWindow). */
  dedupe: Record<string, string[]>;
  /** The stream URL last read (for operators; credentials removed). */
  url: string;
  updatedAt: string;
}

/** Version 1 (before sinks): the lake sink's state sat at the top level. */
interface CheckpointV1 extends Omit<StreamCheckpoint, 'version' | 'sink' | 'quarantineHour'> {
  version: 1;
  lastHour: HourId | null;
  openHours: Record<HourId, Array<{ key: string; records: number }>>;
}

/** The checkpoint's key in the lake. */
export function checkpointKey(writer: string): string {
  return `${STATE}/stream/${writer}.json`;
}

/** The writer's checkpoint (an older version converted), or undefined before the first one. */
export async function loadCheckpoint(store: ObjectStore, writer: string): Promise<StreamCheckpoint | undefined> {
  const saved = await getJson<StreamCheckpoint | CheckpointV1>(store, checkpointKey(writer));
  if (saved?.version !== 1) return saved;
  const { lastHour, openHours, version: _, ...rest } = saved;
  return { ...rest, version: 2, quarantineHour: lastHour, sink: { kind: 'lake', state: { lastHour, openHours } } };
}

/** Writes the checkpoint atomically (temporary name + rename, or one PUT); compact, as the window can be large. */
export function saveCheckpoint(store: ObjectStore, checkpoint: StreamCheckpoint): Promise<void> {
  return store.put(checkpointKey(checkpoint.writer), JSON.stringify(checkpoint) + '\n', { contentType: 'application/json' });
}

/** Writer ids name files and checkpoints: letters, digits, '_' and '-', starting with a letter or digit. */
export const WRITER_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
