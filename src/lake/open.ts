import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError, isErrnoCode } from '../errors.ts';
import { CURATED, RAW, STATE } from './layout.ts';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AwsOptions } from '../aws/clients.ts';
import { LocalStore } from './local-store.ts';
import type { S3StoreOptions } from './s3-store.ts';
import type { ObjectStore } from './store.ts';

export interface OpenLakeOptions {
  /**
   * The command reads a lake that must already be there (`lake ls`, `etl`, `stats`, `status`,
   * `query`, `lake check`): a missing lake is an error instead of an empty answer.
   */
  mustExist?: boolean;
  /** For an s3:// lake: its client (or client options) and write and cache settings. */
  s3?: AwsOptions & S3StoreOptions & { client?: S3Client };
}

/** The top-level folders of which a lake has at least one once anything was written to it. */
const LAKE_MARKS = [RAW, CURATED, STATE] as const;

const LAKE_HINT = 'check --lake (or config "lake" / OPENEVENTS_LAKE); `openevents stream` or `openevents lake import` creates a lake';

/**
 * Opens the lake at a folder path, file:// URL or s3://bucket/prefix URL.
 * S3 lakes are created through the one AWS client factory (see aws/clients.ts); commands get
 * their lake from the runtime (config/runtime.ts), which passes the config's S3 settings.
 * A local path that is a file is always an error; with `mustExist`, so is a lake that is not there.
 */
export async function openLake(location: string, cwd = process.cwd(), options: OpenLakeOptions = {}): Promise<ObjectStore> {
  if (location.startsWith('s3://')) {
    const { S3Store } = await import('./s3-store.ts');
    const store = S3Store.fromUrl(location, options.s3);
    if (options.mustExist) await requireObjects(store);
    return store;
  }
  const root = location.startsWith('file://') ? fileURLToPath(location) : path.resolve(cwd, location);
  await checkLocalRoot(root, options.mustExist === true);
  return new LocalStore(root);
}

async function checkLocalRoot(root: string, mustExist: boolean): Promise<void> {
  const stat = await fs.stat(root).catch((error: unknown) => {
    if (isErrnoCode(error, 'ENOENT')) return undefined;
    if (isErrnoCode(error, 'ENOTDIR')) return 'under-a-file' as const;
    throw error;
  });
  if (stat === 'under-a-file') {
    throw new UserError(`the lake ${root} is inside a file (${await firstFile(root)}), not a folder`, { hint: LAKE_HINT });
  }
  if (stat && !stat.isDirectory()) throw new UserError(`the lake ${root} is a file, not a folder`, { hint: LAKE_HINT });
  if (!mustExist) return;
  if (!stat) throw new UserError(`no lake at ${root}`, { hint: LAKE_HINT });
  const entries = await fs.readdir(root);
  if (!LAKE_MARKS.some((mark) => entries.includes(mark))) {
    throw new UserError(`no lake at ${root}: it has none of ${LAKE_MARKS.map((m) => `${m}/`).join(', ')}`, { hint: LAKE_HINT });
  }
}

/** The first ancestor of `target` that exists and is not a folder. */
async function firstFile(target: string): Promise<string> {
  let at = target;
  for (let parent = path.dirname(at); parent !== at; at = parent, parent = path.dirname(at)) {
    const stat = await fs.stat(parent).catch(() => undefined);
    if (stat && !stat.isDirectory()) return parent;
  }
  return target;
}

/** An s3:// lake exists when its prefix holds at least one object (one LIST request). */
async function requireObjects(store: ObjectStore): Promise<void> {
  for await (const _ of store.list('')) return;
  throw new UserError(`no lake at ${store.url}: the prefix holds no objects`, { hint: LAKE_HINT });
}
