import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  UploadPartCommand,
  paginateListObjectsV2,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client, type AwsOptions } from '../aws/clients.ts';
import { UserError } from '../errors.ts';
import { defaultCacheRoot, lakeCacheName } from './object-cache.ts';
import type { ObjectInfo, ObjectStore, PutOptions } from './store.ts';

/** How an S3 lake writes and caches. */
export interface S3StoreOptions {
  /** Bodies larger than this go up as a multipart upload (default 64 MiB). */
  multipartThresholdBytes?: number;
  /** Part size of a multipart upload (default 16 MiB; S3's minimum is 5 MiB). */
  partSizeBytes?: number;
  /** Parts in flight at once (default 4). */
  partConcurrency?: number;
  /** This lake's local cache folder (default: a folder per lake under ~/.cache/openevents). */
  cacheDir?: string;
}

/** What a download brought: the version (ETag) actually written to the file. */
export interface Downloaded {
  etag: string;
  size: number;
}

const MiB = 1024 * 1024;

/**
 * The lake in S3 (s3://bucket/prefix). Every write is atomic: a single PUT below the multipart
 * threshold, above it a multipart upload, which S3 makes visible only when it is completed
 * (a failed one is aborted, so no parts linger). Listing goes through the SDK's paginator and
 * reports each object's ETag, by which the engines' local cache (object-cache.ts) keys its files.
 */
export class S3Store implements ObjectStore {
  readonly url: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;
  /** This lake's local cache folder. */
  readonly cacheDir: string;
  private readonly threshold: number;
  private readonly partSize: number;
  private readonly partConcurrency: number;

  constructor(bucket: string, prefix: string, client: S3Client, options: S3StoreOptions = {}) {
    this.bucket = bucket;
    this.prefix = prefix && !prefix.endsWith('/') ? prefix + '/' : prefix;
    this.client = client;
    this.url = `s3://${bucket}/${this.prefix}`;
    this.threshold = options.multipartThresholdBytes ?? 64 * MiB;
    this.partSize = Math.max(5 * MiB, options.partSizeBytes ?? 16 * MiB);
    this.partConcurrency = options.partConcurrency ?? 4;
    this.cacheDir = options.cacheDir ?? path.join(defaultCacheRoot(), lakeCacheName(this.url));
  }

  /** Parses s3://bucket/prefix and builds the client through the one factory. */
  static fromUrl(url: string, options: AwsOptions & S3StoreOptions & { client?: S3Client } = {}): S3Store {
    const { bucket, prefix } = parseS3Url(url);
    return new S3Store(bucket, prefix, options.client ?? s3Client(options), options);
  }

  localPath(): undefined {
    return undefined;
  }

  /**
   * Checks that the bucket exists, is in the client's region and these credentials may list it,
   * so a command fails with one clear line before it writes anything. (A listing rather than
   * HeadBucket: a HEAD answer has no body, so an expired token or a wrong region could not be told apart.)
   */
  async check(): Promise<void> {
    await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, MaxKeys: 1 }));
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<void> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (bytes.byteLength > this.threshold) {
      const parts = Math.ceil(bytes.byteLength / this.partSize);
      await this.multipart(key, options, parts, async (i) => bytes.subarray(i * this.partSize, Math.min(bytes.byteLength, (i + 1) * this.partSize)));
      return;
    }
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body: bytes, ContentType: options.contentType, CacheControl: options.cacheControl }),
    );
  }

  /** A conditional PUT (If-None-Match: *): S3 answers 412 when the key exists, 409 when another conditional write to it is in progress. */
  async putIfAbsent(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<boolean> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.prefix + key,
          Body: body,
          IfNoneMatch: '*',
          ContentType: options.contentType,
          CacheControl: options.cacheControl,
        }),
      );
      return true;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) return false;
      throw error;
    }
  }

  async putFile(key: string, file: string, options: PutOptions = {}): Promise<void> {
    const { size } = await fs.stat(file);
    if (size > this.threshold) {
      const handle = await fs.open(file, 'r');
      try {
        await this.multipart(key, options, Math.ceil(size / this.partSize), async (i) => {
          const length = Math.min(this.partSize, size - i * this.partSize);
          const buffer = Buffer.allocUnsafe(length);
          const { bytesRead } = await handle.read(buffer, 0, length, i * this.partSize);
          if (bytesRead !== length) throw new Error(`${file} changed while it was uploaded (read ${bytesRead} of ${length} bytes of part ${i + 1})`);
          return buffer;
        });
      } finally {
        await handle.close();
      }
    } else {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.prefix + key,
          Body: createReadStream(file),
          ContentLength: size,
          ContentType: options.contentType,
          CacheControl: options.cacheControl,
        }),
      );
    }
    await fs.rm(file, { force: true });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  /**
   * Streams an object into `file` (written under a temporary name, then renamed). With `etag`,
   * that version is asked for; if the object changed since it was listed, the current version is
   * downloaded instead and its ETag returned. Undefined when the object is gone.
   */
  async download(key: string, file: string, etag?: string): Promise<Downloaded | undefined> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      let out;
      try {
        out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, ...(etag ? { IfMatch: `"${etag}"` } : {}) }));
      } catch (error) {
        if (error instanceof NoSuchKey) return undefined;
        if (etag && (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412) return await this.download(key, file);
        throw error;
      }
      await pipeline(out.Body as Readable, createWriteStream(tmp));
      const { size } = await fs.stat(tmp);
      await fs.rename(tmp, file);
      return { etag: unquote(out.ETag) ?? etag ?? '', size };
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: this.prefix + prefix })) {
      for (const obj of page.Contents ?? []) {
        if (!obj.Key) continue;
        const etag = unquote(obj.ETag);
        yield { key: obj.Key.slice(this.prefix.length), size: obj.Size ?? 0, mtimeMs: obj.LastModified?.getTime() ?? 0, ...(etag ? { etag } : {}) };
      }
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
  }

  /** A multipart upload of `parts` parts, `partConcurrency` at a time; aborted if any part fails. */
  private async multipart(key: string, options: PutOptions, parts: number, part: (index: number) => Promise<Uint8Array>): Promise<void> {
    const Key = this.prefix + key;
    const created = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key, ContentType: options.contentType, CacheControl: options.cacheControl, ChecksumAlgorithm: 'CRC32' }),
    );
    const UploadId = created.UploadId;
    if (!UploadId) throw new Error(`S3 started no multipart upload for s3://${this.bucket}/${Key}`);
    const done: CompletedPart[] = [];
    try {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < parts) {
          const index = next++;
          const Body = await part(index);
          const out = await this.client.send(
            new UploadPartCommand({ Bucket: this.bucket, Key, UploadId, PartNumber: index + 1, Body, ContentLength: Body.byteLength, ChecksumAlgorithm: 'CRC32' }),
          );
          done.push({ PartNumber: index + 1, ETag: out.ETag, ...(out.ChecksumCRC32 ? { ChecksumCRC32: out.ChecksumCRC32 } : {}) });
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.partConcurrency, parts) }, worker));
      done.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId, MultipartUpload: { Parts: done } }));
    } catch (error) {
      // Nothing half-written stays behind: the parts are discarded, the key keeps its old object.
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId })).catch(() => undefined);
      throw error;
    }
  }
}

/** Splits s3://bucket/prefix. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m || !m[1]) throw new UserError(`not an s3:// URL: ${url}`, { hint: 'an S3 lake is s3://bucket or s3://bucket/prefix' });
  return { bucket: m[1], prefix: m[2] ?? '' };
}

function unquote(etag: string | undefined): string | undefined {
  return etag?.replace(/^W\//, '').replace(/"/g, '') || undefined;
}
