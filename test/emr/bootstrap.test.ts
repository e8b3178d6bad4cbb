import { CreateBucketCommand, DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCodeBundle, uploadCode } from '../../src/emr/code.ts';
import { fakeAwsCli } from '../helpers/fake-aws-cli.ts';
import { ROOT, useMoto } from '../helpers/moto.ts';

// provisioning/emr/bootstrap.sh off-cluster: the code comes from moto_server through a stand-in
// for the AWS CLI (boto3 from .venv doing `aws s3 cp --recursive`), pip is a stand-in that
// records its arguments. What it must do on a node: copy the code by hash, link `current`,
// install the requirements, and be idempotent.
const moto = useMoto();
let s3: S3Client;
let dir: string;
const SCRIPT = path.join(ROOT, 'provisioning/emr/bootstrap.sh');

beforeAll(async () => {
  s3 = new S3Client({ endpoint: moto().endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await s3.send(new CreateBucketCommand({ Bucket: 'code' }));
  dir = mkdtempSync(path.join(tmpdir(), 'oe-emr-boot-'));
  fakeAwsCli(dir);
  writeFileSync(path.join(dir, 'python'), `#!/bin/sh\necho "python $*" >> "${dir}/calls"\n`);
  chmodSync(path.join(dir, 'python'), 0o755);
});
afterAll(() => {
  s3?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function bootstrap(codeUri: string, home = path.join(dir, 'node')) {
  const out = spawnSync('bash', [SCRIPT, codeUri], {
    env: { ...process.env, ...moto().env, OPENEVENTS_NODE_HOME: home, AWS_CLI: path.join(dir, 'aws'), PYTHON: path.join(dir, 'python'), SUDO: '' },
    encoding: 'utf8',
  });
  return { ...out, home };
}
const calls = (): string[] => readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n');

describe('the EMR bootstrap action (provisioning/emr/bootstrap.sh)', () => {
  it('copies the code by hash, links current, installs the requirements; a second run copies nothing', async () => {
    const bundle = await readCodeBundle();
    const code = await uploadCode(s3, 's3://code/jobs/', bundle);
    const first = bootstrap(code.uri);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const dest = path.join(first.home, bundle.hash);
    expect(readlinkSync(path.join(first.home, 'current'))).toBe(dest);
    for (const file of bundle.files) expect(readFileSync(path.join(dest, file.path)).equals(file.body), file.path).toBe(true);
    expect(calls()).toEqual([
      `aws s3 cp --recursive --only-show-errors ${code.uri} ${calls()[0]!.split(' ').pop()}`,
      `python -m pip install --quiet --disable-pip-version-check --no-warn-script-location -r ${dest}/provisioning/emr/requirements.txt`,
    ]);
    // The staging folder was moved into place: nothing else is left in the node's folder.
    expect(spawnSync('ls', ['-A', first.home], { encoding: 'utf8' }).stdout.trim().split('\n').sort()).toEqual([bundle.hash, 'current'].sort());

    const again = bootstrap(code.uri.replace(/\/$/, '')); // without the trailing slash too
    expect(again.status).toBe(0);
    expect(calls().filter((c) => c.startsWith('aws '))).toHaveLength(1);
    expect(calls().filter((c) => c.startsWith('python '))).toHaveLength(2);
  });

  it('refuses code whose upload did not finish (no _complete.json), and a URI that is not s3://', async () => {
    const bundle = await readCodeBundle();
    const code = await uploadCode(s3, 's3://code/half/', bundle);
    await s3.send(new DeleteObjectCommand({ Bucket: 'code', Key: `half/${bundle.hash}/_complete.json` }));
    const fresh = bootstrap(code.uri, path.join(dir, 'other-node'));
    expect(fresh.status).toBe(1);
    expect(fresh.stderr).toContain('has no _complete.json (upload unfinished)');
    expect(spawnSync('ls', ['-A', path.join(dir, 'other-node')], { encoding: 'utf8' }).stdout).not.toContain('current');
    const wrong = bootstrap('/tmp/code/', path.join(dir, 'other-node'));
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('not an s3:// URI');
  });
});
