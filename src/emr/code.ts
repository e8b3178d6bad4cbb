import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { s3Location } from './settings.ts';

/**
 * The code a cluster runs, addressed by content: the Spark jobs (spark/jobs), the shared SQL
 * (src/etl/sql), the classifier's stopwords (src/ml/stopwords) and the bootstrap action with its
 * requirements (provisioning/emr), at their paths in this repository — so the jobs' defaults
 * (`--sql-dir`, `--stopwords-dir`) hold on the nodes as they do here. Uploaded once per hash to
 * `<codeUri><hash>/`; the bootstrap action copies it to every node, at `EMR_CODE_DIR` (see provisioning/emr/).
 */
export interface CodeBundle {
  /** The first 16 hex digits of the SHA-256 over every path and content. */
  hash: string;
  files: Array<{ path: string; body: Buffer }>;
}

/** The bootstrap action, relative to the bundle. */
export const BOOTSTRAP_SCRIPT = 'provisioning/emr/bootstrap.sh';
/** Written last: its presence says the whole bundle is there. */
const COMPLETE = '_complete.json';

// This module runs from src/emr (tests) or dist/emr (the CLI): the SQL and stopwords sit beside it
// in both, the Spark jobs and provisioning at the package root.
const HERE = import.meta.dirname;
const PACKAGE_ROOT = path.resolve(HERE, '../..');
const SOURCES: Array<{ dir: string; as: string; keep: (name: string) => boolean }> = [
  { dir: path.join(PACKAGE_ROOT, 'spark/jobs'), as: 'spark/jobs', keep: (n) => n.endsWith('.py') },
  { dir: path.join(HERE, '../etl/sql'), as: 'src/etl/sql', keep: (n) => n.endsWith('.sql') || n === 'macros.json' },
  { dir: path.join(HERE, '../ml/stopwords'), as: 'src/ml/stopwords', keep: (n) => n.endsWith('.txt') },
  { dir: path.join(PACKAGE_ROOT, 'provisioning/emr'), as: 'provisioning/emr', keep: (n) => !n.startsWith('.') },
];

/** Reads the bundle from this installation. */
export async function readCodeBundle(sources = SOURCES): Promise<CodeBundle> {
  const files: CodeBundle['files'] = [];
  for (const source of sources) {
    const names = (await fs.readdir(source.dir, { withFileTypes: true })).filter((e) => e.isFile() && source.keep(e.name)).map((e) => e.name);
    for (const name of names) files.push({ path: `${source.as}/${name}`, body: await fs.readFile(path.join(source.dir, name)) });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const hash = createHash('sha256');
  for (const file of files) hash.update(`${file.path}\0${file.body.length}\0`).update(file.body);
  return { hash: hash.digest('hex').slice(0, 16), files };
}

/** Where a bundle lives under a code prefix. */
export function codeLocation(codeUri: string, hash: string): string {
  return `${codeUri}${hash}/`;
}

export interface UploadedCode {
  uri: string;
  hash: string;
  /** False when this hash was already there (nothing was sent). */
  uploaded: boolean;
  files: number;
  bytes: number;
}

/** Uploads the bundle unless its hash is already complete under `codeUri`; the completion marker goes last. */
export async function uploadCode(s3: S3Client, codeUri: string, bundle: CodeBundle): Promise<UploadedCode> {
  const uri = codeLocation(codeUri, bundle.hash);
  const { bucket, key: prefix } = s3Location(uri);
  const bytes = bundle.files.reduce((n, f) => n + f.body.length, 0);
  const result = { uri, hash: bundle.hash, files: bundle.files.length, bytes };
  if (await exists(s3, bucket, prefix + COMPLETE)) return { ...result, uploaded: false };
  // Four at a time: a few dozen small files.
  const queue = [...bundle.files];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let file = queue.shift(); file; file = queue.shift()) {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: prefix + file.path, Body: file.body }));
      }
    }),
  );
  const manifest = { hash: bundle.hash, files: bundle.files.map((f) => ({ path: f.path, bytes: f.body.length })) };
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: prefix + COMPLETE, Body: JSON.stringify(manifest, null, 2), ContentType: 'application/json' }));
  return { ...result, uploaded: true };
}

async function exists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return false;
    throw error;
  }
}
