import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isAwsNotFound } from '../aws/errors.ts';
import { UserError, errorMessage } from '../errors.ts';
import { parseS3Url } from '../lake/s3-store.ts';
import { PACKAGE_ROOT } from './settings.ts';

const run = promisify(execFile);

/** The toolkit as one npm pack tarball, named by its content. */
export interface Artifact {
  /** The local tarball. */
  file: string;
  /** `openevents-<version>-<first 12 hex of its SHA-256>.tgz`: a new build is a new name. */
  name: string;
  sha256: string;
  bytes: number;
}

/**
 * Packs the running toolkit (`npm pack` of its own package: dist/, provisioning/ec2/,
 * provision.sh, …) into `dir`. Scripts are not run: what is packed is the build that is
 * running, and an installed toolkit has no build scripts. npm pack is reproducible, so the
 * same build always gets the same name.
 */
export async function packToolkit(dir: string): Promise<Artifact> {
  let stdout: string;
  try {
    ({ stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: PACKAGE_ROOT, maxBuffer: 64 * 1024 * 1024 }));
  } catch (error) {
    throw new UserError(`npm pack of the toolkit in ${PACKAGE_ROOT} failed: ${errorMessage(error).split('\n')[0]}`, {
      hint: 'npm must be on PATH; or pass --artifact <openevents-….tgz> built elsewhere',
      cause: error,
    });
  }
  const [packed] = JSON.parse(stdout) as Array<{ filename: string }>;
  if (!packed) throw new Error('npm pack printed no file');
  return describeArtifact(path.join(dir, packed.filename));
}

/** A tarball's content name: `<package>-<version>-<hash>.tgz` from `openevents-<version>.tgz`. */
export async function describeArtifact(file: string): Promise<Artifact> {
  const body = await fs.readFile(file).catch((error: unknown) => {
    throw new UserError(`cannot read the toolkit tarball ${file}: ${errorMessage(error)}`, { cause: error });
  });
  const sha256 = createHash('sha256').update(body).digest('hex');
  const base = path.basename(file).replace(/\.tgz$/, '');
  if (!/^[\w.+-]+$/.test(base)) throw new UserError(`not a toolkit tarball name: ${path.basename(file)}`, { hint: 'pass the openevents-<version>.tgz npm pack wrote' });
  const name = base.endsWith(sha256.slice(0, 12)) ? `${base}.tgz` : `${base}-${sha256.slice(0, 12)}.tgz`;
  return { file, name, sha256, bytes: body.length };
}

/** Where an artifact lives under `artifactUri` (s3://…/). */
export function artifactUri(artifactUri: string, artifact: Artifact): string {
  return `${artifactUri}${artifact.name}`;
}

/**
 * Uploads the tarball unless an object of its name (its content hash) is already there.
 * Returns whether it uploaded.
 */
export async function stageArtifact(s3: S3Client, uri: string, artifact: Artifact): Promise<boolean> {
  const { bucket, prefix: key } = parseS3Url(uri);
  const there = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    (error: unknown) => {
      if (isAwsNotFound(error) || (error as { name?: string }).name === 'NotFound') return false;
      throw error;
    },
  );
  if (there) return false;
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: await fs.readFile(artifact.file),
      ContentType: 'application/gzip',
      ChecksumAlgorithm: 'SHA256',
      Metadata: { sha256: artifact.sha256 },
    }),
  );
  return true;
}

/** A temporary folder for a packed tarball, removed by the returned function. */
export async function packDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'openevents-pack-'));
  return { dir, remove: () => fs.rm(dir, { recursive: true, force: true }) };
}
