import { LocalStore } from './local-store.ts';
import type { S3StoreOptions } from './s3-store.ts';
import type { ObjectStore } from './store.ts';
import type { AwsOptions } from '../aws/clients.ts';
import type { S3Client } from '@aws-sdk/client-s3';
import { fileURLToPath } from 'node:url';

export interface OpenLakeOptions {
  /** For an s3:// lake: its client (or client options) and write and cache settings. */
  s3?: AwsOptions & S3StoreOptions & { client?: S3Client };
}

/**
 * Opens the lake at a folder path, file:// URL or s3://bucket/prefix URL.
 * S3 lakes are created through the one AWS client factory (see aws/clients.ts); commands get
 * their lake from the runtime (config/runtime.ts), which passes the config's S3 settings.
 */
export async function openLake(location: string, cwd = process.cwd(), options: OpenLakeOptions = {}): Promise<ObjectStore> {
  if (location.startsWith('s3://')) {
    const { S3Store } = await import('./s3-store.ts');
    return S3Store.fromUrl(location, options.s3);
  }
  if (location.startsWith('file://')) return new LocalStore(fileURLToPath(location));
  const { resolve } = await import('node:path');
  return new LocalStore(resolve(cwd, location));
}
