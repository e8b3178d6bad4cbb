import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeAwsCli } from '../helpers/fake-aws-cli.ts';
import { ROOT, useMoto } from '../helpers/moto.ts';

// provisioning/emr/toolkit.sh off-cluster: the tarball comes from moto_server through a stand-in
// for the AWS CLI (boto3 from .venv), npm is a stand-in that records its arguments and installs a
// command that prints what it was given; the node on PATH here is 20, so no Node.js is downloaded.
const moto = useMoto();
let s3: S3Client;
let dir: string;
const SCRIPT = path.join(ROOT, 'provisioning/emr/toolkit.sh');
const TARBALL = 's3://code/toolkit/openevents-0.1.0-0123456789ab.tgz';

beforeAll(async () => {
  s3 = new S3Client({ endpoint: moto().endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await s3.send(new CreateBucketCommand({ Bucket: 'code' }));
  await s3.send(new PutObjectCommand({ Bucket: 'code', Key: 'toolkit/openevents-0.1.0-0123456789ab.tgz', Body: 'tarball bytes' }));
  dir = mkdtempSync(path.join(tmpdir(), 'oe-emr-toolkit-'));
  fakeAwsCli(dir);
  // npm install -g --prefix P … tarball: installs P/bin/openevents, which prints its arguments and region.
  writeFileSync(
    path.join(dir, 'npm'),
    `#!/bin/sh
echo "npm $*" >> "${dir}/calls"
prefix="$4"
mkdir -p "$prefix/bin"
printf '#!/bin/sh\\necho "openevents $* region=$AWS_REGION"\\n' > "$prefix/bin/openevents"
chmod +x "$prefix/bin/openevents"
`,
  );
  chmodSync(path.join(dir, 'npm'), 0o755);
});
afterAll(() => {
  s3?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function toolkit(uri: string, home: string, primary = '1') {
  return spawnSync('bash', [SCRIPT, uri], {
    env: { ...process.env, ...moto().env, OPENEVENTS_NODE_HOME: home, OPENEVENTS_PRIMARY: primary, AWS_CLI: path.join(dir, 'aws'), NPM_CLI: path.join(dir, 'npm') },
    encoding: 'utf8',
  });
}
const calls = (): string[] => (existsSync(path.join(dir, 'calls')) ? readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n') : []);

describe('the EMR bootstrap action for the toolkit (provisioning/emr/toolkit.sh)', () => {
  it('installs the tarball with the node on PATH and writes the command the steps run; a second run fetches nothing', () => {
    const home = path.join(dir, 'primary');
    const first = toolkit(TARBALL, home);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const tarball = path.join(home, 'cache/openevents-0.1.0-0123456789ab.tgz');
    expect(readFileSync(tarball, 'utf8')).toBe('tarball bytes');
    expect(calls()).toEqual([
      `aws s3 cp --only-show-errors ${TARBALL} ${tarball}`,
      `npm install -g --prefix ${home}/toolkit --omit=dev --no-audit --no-fund --loglevel=error ${tarball}`,
    ]);
    expect(existsSync(path.join(home, 'node'))).toBe(false); // node 20 was on PATH

    // The command the steps run: the installed toolkit, with the caller's region kept.
    const run = spawnSync(path.join(home, 'bin/openevents'), ['report', 'build', '--lake', 's3://lake/oe'], { env: { ...process.env, AWS_REGION: 'eu-west-1' }, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('openevents report build --lake s3://lake/oe region=eu-west-1');

    const again = toolkit(TARBALL, home);
    expect(again.status).toBe(0);
    expect(calls().filter((c) => c.startsWith('aws '))).toHaveLength(1);
  });

  it('does nothing on a node that is not the primary one; refuses what is not an s3:// tarball', () => {
    const home = path.join(dir, 'core');
    const core = toolkit(TARBALL, home, '0');
    expect(core.status).toBe(0);
    expect(core.stdout).toContain('not the primary node');
    expect(existsSync(home)).toBe(false);
    const wrong = toolkit('/tmp/openevents.tgz', home);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('not an s3:// URI of a .tgz');
  });
});
