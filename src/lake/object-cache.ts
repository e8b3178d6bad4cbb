import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ObjectInfo, ObjectStore } from './store.ts';

/**
 * The engines' local view of a lake. DuckDB (and Spark in local mode) read files, not objects:
 * a folder lake's files are read where they are; an s3:// lake's objects are downloaded once
 * into a cache folder and read from there. A cached file is named by its object's ETag
 * (`objects/<key's folder>/<etag>/<name>`), so a rewritten object — a new ETag in the listing —
 * is a new file, and a stale version can never be read for a new one; files whose object is gone
 * or was rewritten are removed by `pruneCachedFiles`. The cache can be deleted at any time.
 */

/** Something that can stream one object into a local file (S3Store). */
export interface Downloader {
  download(key: string, file: string, etag?: string): Promise<{ etag: string; size: number } | undefined>;
}

/** The cache root when the config names none: $XDG_CACHE_HOME/openevents, else ~/.cache/openevents. */
export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), 'openevents');
}

/** The folder name of one lake's cache under the cache root: readable, and unique per lake URL. */
export function lakeCacheName(url: string): string {
  const readable = url.replace(/^[a-z0-9]+:\/\//, '').replace(/[^a-zA-Z0-9.-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 60);
  return `${readable}-${createHash('sha1').update(url).digest('hex').slice(0, 10)}`;
}

/**
 * A lake's cache folder: `.cache/` inside a folder lake (it goes with the lake; list() skips
 * hidden names), the store's own `cacheDir` for an s3:// lake.
 */
export function lakeCacheDir(store: ObjectStore): string {
  const local = store.localPath('.cache');
  if (local) return local;
  const own = (store as { cacheDir?: unknown }).cacheDir;
  return typeof own === 'string' && own !== '' ? own : path.join(defaultCacheRoot(), lakeCacheName(store.url));
}

/** Where to cache: a lake cache folder other than the store's own (tests, or a one-off reader). */
export interface CacheOptions {
  cacheDir?: string;
}

/** The objects folder of a lake's cache. */
function objectsDir(store: ObjectStore, options: CacheOptions): string {
  return path.join(options.cacheDir ?? lakeCacheDir(store), 'objects');
}

/** The cache file of one version of an object. */
export function cachedFilePath(store: ObjectStore, info: ObjectInfo, options: CacheOptions = {}): string {
  const slash = info.key.lastIndexOf('/');
  const folder = slash >= 0 ? info.key.slice(0, slash) : '';
  const name = info.key.slice(slash + 1);
  return path.join(objectsDir(store, options), ...folder.split('/').filter(Boolean), versionOf(info), name);
}

/**
 * Local files for `objects`, in the same order: a folder lake's own paths; for an s3:// lake the
 * cached copy of each object's listed version, downloaded (a few at a time) when not cached yet.
 * An object deleted since it was listed gives undefined.
 */
export async function localFiles(
  store: ObjectStore,
  objects: readonly ObjectInfo[],
  options: CacheOptions & { concurrency?: number } = {},
): Promise<Array<string | undefined>> {
  const out: Array<string | undefined> = new Array(objects.length);
  const pending: number[] = [];
  objects.forEach((info, i) => {
    const local = store.localPath(info.key);
    if (local !== undefined) out[i] = local;
    else pending.push(i);
  });
  if (pending.length === 0) return out;
  const downloader = store as unknown as Partial<Downloader>;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pending.length) {
      const i = pending[next++]!;
      out[i] = await cachedFile(store, downloader, objects[i]!, options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, pending.length) }, worker));
  return out;
}

async function cachedFile(store: ObjectStore, downloader: Partial<Downloader>, info: ObjectInfo, options: CacheOptions): Promise<string | undefined> {
  const file = cachedFilePath(store, info, options);
  const stat = await fs.stat(file).catch(() => undefined);
  if (stat && stat.size === info.size) return file;
  if (downloader.download) {
    const got = await downloader.download(info.key, file, info.etag);
    if (!got) return undefined;
    // Rewritten since it was listed: keep the version we got, under its own name.
    if (info.etag && got.etag && got.etag !== info.etag) {
      const actual = cachedFilePath(store, { ...info, etag: got.etag, size: got.size }, options);
      await fs.mkdir(path.dirname(actual), { recursive: true });
      await fs.rename(file, actual);
      return actual;
    }
    return file;
  }
  const bytes = await store.get(info.key);
  if (!bytes) return undefined;
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, bytes);
  await fs.rename(tmp, file);
  return file;
}

/**
 * Removes cached files under the key prefix `prefix` that are not in `keep` (objects deleted or
 * rewritten since they were cached), and the folders that leaves empty.
 */
export async function pruneCachedFiles(store: ObjectStore, prefix: string, keep: ReadonlySet<string>, options: CacheOptions = {}): Promise<void> {
  if (store.localPath(prefix) !== undefined) return;
  const dir = path.join(objectsDir(store, options), ...prefix.split('/').filter(Boolean));
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  const folders = new Set<string>();
  for (const e of entries) {
    const full = path.join(e.parentPath, e.name);
    if (e.isDirectory()) folders.add(full);
    // Temporary names of downloads in progress (another process) are left alone.
    else if (!keep.has(full) && !e.name.endsWith('.tmp')) await fs.rm(full, { force: true });
  }
  // Deepest first, so a parent emptied by its children goes too.
  for (const folder of [...folders].sort((a, b) => b.length - a.length)) await fs.rmdir(folder).catch(() => undefined);
}

/** The version part of a cache file's path: the ETag, or size and mtime where a store has none. */
function versionOf(info: ObjectInfo): string {
  const raw = info.etag ?? `s${info.size}-m${Math.trunc(info.mtimeMs)}`;
  return raw.replace(/[^a-zA-Z0-9-]/g, '_');
}
