import { LocalStore } from './local-store.ts';
import type { ObjectStore } from './store.ts';
import { fileURLToPath } from 'node:url';

/**
 * Opens the lake at a folder path, file:// URL or s3://bucket/prefix URL.
 * S3 lakes are created through the one AWS client factory (see aws/clients.ts).
 */
export async function openLake(location: string, cwd = process.cwd()): Promise<ObjectStore> {
  if (location.startsWith('s3://')) {
    const { S3Store } = await import('./s3-store.ts');
    return S3Store.fromUrl(location);
  }
  if (location.startsWith('file://')) return new LocalStore(fileURLToPath(location));
  const { resolve } = await import('node:path');
  return new LocalStore(resolve(cwd, location));
}
