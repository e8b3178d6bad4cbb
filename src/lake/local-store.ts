import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isErrnoCode } from '../errors.ts';
import type { ObjectInfo, ObjectStore, PutOptions } from './store.ts';

/**
 * The lake in a local folder. Writes go to a temporary name in the same folder, are fsynced,
 * and renamed into place (rename is atomic on one filesystem); the folder is fsynced too so the
 * new name survives a crash. Temporary names start with '.' and never show in list().
 */
export class LocalStore implements ObjectStore {
  readonly root: string;
  readonly url: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.url = pathToFileURL(this.root).href;
  }

  localPath(key: string): string {
    const full = path.resolve(this.root, key);
    if (full !== this.root && !full.startsWith(this.root + path.sep)) throw new Error(`key escapes the lake: ${key}`);
    return full;
  }

  async put(key: string, body: Uint8Array | string, _options?: PutOptions): Promise<void> {
    const target = this.localPath(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const tmp = tempName(target);
    try {
      await writeSynced(tmp, body);
      await this.commit(tmp, target);
    } catch (error) {
      throw await abandon(tmp, target, error);
    }
  }

  async putIfAbsent(key: string, body: Uint8Array | string, _options?: PutOptions): Promise<boolean> {
    const target = this.localPath(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const tmp = tempName(target);
    await writeSynced(tmp, body).catch(async (error: unknown) => {
      throw await abandon(tmp, target, error);
    });
    // link() fails if the name exists, atomically (rename would replace it): whole content or nothing, one winner.
    try {
      await fs.link(tmp, target);
    } catch (error) {
      if (!isErrnoCode(error, 'EEXIST')) throw error;
      return false;
    } finally {
      await fs.rm(tmp, { force: true });
    }
    await this.syncDir(path.dirname(target));
    return true;
  }

  async putFile(key: string, file: string, _options?: PutOptions): Promise<void> {
    const target = this.localPath(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const handle = await fs.open(file, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await this.commit(file, target);
    } catch (error) {
      if (!isErrnoCode(error, 'EXDEV')) throw error;
      // Another filesystem: copy to a temporary name beside the target, then rename.
      const tmp = tempName(target);
      try {
        await fs.copyFile(file, tmp);
        await this.commit(tmp, target);
      } catch (copyError) {
        throw await abandon(tmp, target, copyError);
      }
      await fs.rm(file, { force: true });
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await fs.readFile(this.localPath(key));
    } catch (error) {
      if (isErrnoCode(error, 'ENOENT') || isErrnoCode(error, 'EISDIR')) return undefined;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    // Walk only the folders the prefix can match, in sorted order, so keys come out sorted.
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash >= 0 ? prefix.slice(0, slash) : '';
    yield* this.walk(dirKey, prefix);
  }

  private async *walk(dirKey: string, prefix: string): AsyncIterable<ObjectInfo> {
    let entries;
    try {
      entries = await fs.readdir(dirKey ? this.localPath(dirKey) : this.root, { withFileTypes: true });
    } catch (error) {
      if (isErrnoCode(error, 'ENOENT') || isErrnoCode(error, 'ENOTDIR')) return;
      throw error;
    }
    const names = entries.filter((e) => !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of names) {
      const key = dirKey ? `${dirKey}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (prefix.startsWith(key + '/') || (key + '/').startsWith(prefix) || key.startsWith(prefix)) {
          yield* this.walk(key, prefix);
        }
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const stat = await fs.stat(this.localPath(key)).catch(() => undefined);
        if (stat) yield { key, size: stat.size, mtimeMs: stat.mtimeMs };
      }
    }
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.localPath(key), { force: true });
  }

  private async commit(tmp: string, target: string): Promise<void> {
    await fs.rename(tmp, target);
    await this.syncDir(path.dirname(target));
  }

  private async syncDir(folder: string): Promise<void> {
    const dir = await fs.open(folder, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

/** Writes a new file and flushes it to the disk. */
async function writeSynced(file: string, body: Uint8Array | string): Promise<void> {
  const handle = await fs.open(file, 'w');
  try {
    await handle.writeFile(body);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * A failed write leaves no temporary file behind, and its error names the object it was for
 * (errors of an open file handle carry no path: a full disk would otherwise name nothing).
 */
async function abandon(tmp: string, target: string, error: unknown): Promise<unknown> {
  await fs.rm(tmp, { force: true }).catch(() => undefined);
  if (error && typeof error === 'object' && 'code' in error && !('path' in error)) Object.assign(error, { path: target });
  return error;
}

function tempName(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}
