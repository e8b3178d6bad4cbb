import { createReadStream, promises as fs } from 'node:fs';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client, type AwsOptions } from '../aws/clients.ts';
import type { ObjectInfo, ObjectStore, PutOptions } from './store.ts';

/**
 * The lake in S3 (s3://bucket/prefix). A single PUT is atomic in S3: readers see the old
 * object or the new one. Files larger than one PUT allows should go through multipart upload
 * (lib-storage) — raw files are rotated well below 5 GiB, so one PUT serves.
 */
export class S3Store implements ObjectStore {
  readonly url: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;

  constructor(bucket: string, prefix: string, client: S3Client) {
    this.bucket = bucket;
    this.prefix = prefix && !prefix.endsWith('/') ? prefix + '/' : prefix;
    this.client = client;
    this.url = `s3://${bucket}/${this.prefix}`;
  }

  /** Parses s3://bucket/prefix and builds the client through the one factory. */
  static fromUrl(url: string, options: AwsOptions = {}): S3Store {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
    if (!m || !m[1]) throw new Error(`not an s3:// URL: ${url}`);
    return new S3Store(m[1], m[2] ?? '', s3Client(options));
  }

  localPath(): undefined {
    return undefined;
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.prefix + key,
        Body: body,
        ContentType: options.contentType,
        CacheControl: options.cacheControl,
      }),
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

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: this.prefix + prefix })) {
      for (const obj of page.Contents ?? []) {
        if (!obj.Key) continue;
        yield { key: obj.Key.slice(this.prefix.length), size: obj.Size ?? 0, mtimeMs: obj.LastModified?.getTime() ?? 0 };
      }
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
  }
}
