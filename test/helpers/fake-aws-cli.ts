import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './moto.ts';

/**
 * A stand-in for the AWS CLI's `aws s3 cp [--recursive] [--only-show-errors] <s3://src> <dest>`,
 * the one form the EMR bootstrap actions (provisioning/emr/*.sh) use: boto3 from .venv against
 * AWS_ENDPOINT_URL (moto_server) copies one object, or with --recursive every object under the
 * prefix into the folder. Each call is appended to `<dir>/calls` as `aws <args>`; any other command
 * or option exits 2. Writes `<dir>/aws` and returns its path (for AWS_CLI).
 */
export function fakeAwsCli(dir: string): string {
  const file = path.join(dir, 'aws');
  writeFileSync(
    file,
    `#!/bin/sh
echo "aws $*" >> "${dir}/calls"
[ "$1 $2" = "s3 cp" ] || { echo "unexpected: $*" >&2; exit 2; }
shift 2
exec "${ROOT}/.venv/bin/python" - "$@" <<'PY'
import os, sys, boto3
flags = [a for a in sys.argv[1:] if a.startswith("-")]
paths = [a for a in sys.argv[1:] if not a.startswith("-")]
if set(flags) - {"--recursive", "--only-show-errors"} or len(paths) != 2 or not paths[0].startswith("s3://"):
    sys.exit("unexpected: s3 cp " + " ".join(sys.argv[1:]))
src, dest = paths
bucket, _, key = src[len("s3://"):].partition("/")
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
if "--recursive" not in flags:
    s3.download_file(bucket, key, dest)
    sys.exit(0)
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
    for o in page.get("Contents", []):
        target = os.path.join(dest, o["Key"][len(key):])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        s3.download_file(bucket, o["Key"], target)
PY
`,
  );
  chmodSync(file, 0o755);
  return file;
}
