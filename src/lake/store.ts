import { CorruptObjectError } from '../errors.ts';
/**
 * The lake's object store: one interface over a local folder and S3. Keys are '/'-separated
 * paths relative to the lake root (e.g. 'raw/2026/11/28/06/w1-1-500.ndjson.gz').
 * Every write is atomic: a reader sees the old object or the whole new one, never a part.
 */
export interface ObjectInfo {
  key: string;
  size: number;
  /** Last modification time, ms since the epoch. */
  mtimeMs: number;
  /** The object's version tag where the store has one (S3's ETag, unquoted): a rewrite changes it. */
  etag?: string;
}

export interface PutOptions {
  contentType?: string;
  cacheControl?: string;
}

export interface ObjectStore {
  /** The lake root as a URL: file:///abs/path or s3://bucket/prefix. */
  readonly url: string;
  /** Writes an object atomically, replacing any object of that key. */
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<void>;
  /**
   * Creates the object only if no object has that key (atomically: of two concurrent calls, one
   * wins); true when created, false when the key existed. Leases are built on it (lake/lease.ts).
   */
  putIfAbsent(key: string, body: Uint8Array | string, options?: PutOptions): Promise<boolean>;
  /** Moves a finished local file into the store under `key`, atomically; the file is consumed. */
  putFile(key: string, file: string, options?: PutOptions): Promise<void>;
  /** The object's bytes, or undefined when there is none. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Objects whose key starts with `prefix`, in key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  delete(key: string): Promise<void>;
  /** A local file path for the key when the store is a local folder (engines read it directly). */
  localPath(key: string): string | undefined;
}

/** Reads and parses a JSON object, or undefined when absent; a CorruptObjectError names an object that does not parse. */
export async function getJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  const bytes = await store.get(key);
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
  } catch (error) {
    throw new CorruptObjectError(key, store.localPath(key) ?? `${store.url}${key}`, error);
  }
}

/** Writes a value as pretty JSON, atomically. */
export async function putJson(store: ObjectStore, key: string, value: unknown): Promise<void> {
  await store.put(key, JSON.stringify(value, null, 2) + '\n', { contentType: 'application/json' });
}

/** Collects list() into an array. */
export async function listAll(store: ObjectStore, prefix: string): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of store.list(prefix)) out.push(info);
  return out;
}
