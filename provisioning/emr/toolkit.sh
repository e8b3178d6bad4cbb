#!/usr/bin/env bash
# EMR bootstrap action of openevents for steps that run the toolkit itself (`emr run --steps …,report`):
#   toolkit.sh s3://bucket/prefix/toolkit/openevents-<version>-<hash>.tgz
# On the primary node (steps run there; other nodes exit at once):
# 1. Node.js 20 — the node on PATH when it is 20 or newer, else the official linux build of
#    NODE_VERSION from nodejs.org, checked against its SHASUMS256.txt, in $home/node;
# 2. the toolkit from its npm pack tarball (staged by content hash: a new build is a new name),
#    `npm install -g` into $home/toolkit;
# 3. $home/bin/openevents: a wrapper that puts that Node first on PATH and takes the region from
#    the instance's metadata (IMDSv2) when AWS_REGION is not set — EMR steps get no region.
# Idempotent. Any failure fails the bootstrap action (EMR ends the cluster: BOOTSTRAP_FAILURE).
# OPENEVENTS_NODE_HOME, OPENEVENTS_PRIMARY (1/0: skip the instance.json check), AWS_CLI, NPM_CLI
# and NODE_VERSION override the defaults (tests run it off-cluster).
set -euo pipefail

tarball_uri="${1:?usage: toolkit.sh s3://bucket/prefix/openevents-<version>-<hash>.tgz}"
case "$tarball_uri" in
  s3://*.tgz) ;;
  *) echo "toolkit: not an s3:// URI of a .tgz: $tarball_uri" >&2; exit 2 ;;
esac
home="${OPENEVENTS_NODE_HOME:-/home/hadoop/openevents}"
aws_cli="${AWS_CLI:-aws}"
node_version="${NODE_VERSION:-20.20.2}"

primary="${OPENEVENTS_PRIMARY:-}"
if [ -z "$primary" ]; then
  primary=0
  grep -Eq '"isMaster"[[:space:]]*:[[:space:]]*true' /mnt/var/lib/info/instance.json 2>/dev/null && primary=1
fi
if [ "$primary" != 1 ]; then
  echo "toolkit: not the primary node, nothing to install"
  exit 0
fi

mkdir -p "$home/bin" "$home/cache"

# --- Node.js 20 or newer
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
node_bin=""
if command -v node >/dev/null && [ "$(node_major node)" -ge 20 ]; then
  node_bin="$(dirname "$(command -v node)")"
elif [ -x "$home/node/bin/node" ] && [ "$(node_major "$home/node/bin/node")" -ge 20 ]; then
  node_bin="$home/node/bin"
else
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) echo "toolkit: no Node.js build for $(uname -m)" >&2; exit 1 ;;
  esac
  name="node-v$node_version-linux-$arch"
  base="https://nodejs.org/dist/v$node_version"
  curl -fsSL --retry 3 -o "$home/cache/$name.tar.xz" "$base/$name.tar.xz"
  curl -fsSL --retry 3 -o "$home/cache/SHASUMS256.txt" "$base/SHASUMS256.txt"
  (cd "$home/cache" && grep " $name.tar.xz\$" SHASUMS256.txt | sha256sum -c --quiet -) || { echo "toolkit: $name.tar.xz does not match its SHASUMS256.txt" >&2; exit 1; }
  rm -rf "$home/node.tmp" && mkdir -p "$home/node.tmp"
  tar -xJf "$home/cache/$name.tar.xz" -C "$home/node.tmp" --strip-components=1
  rm -rf "$home/node" && mv "$home/node.tmp" "$home/node"
  node_bin="$home/node/bin"
fi
npm_cli="${NPM_CLI:-$node_bin/npm}"

# --- the toolkit
tarball="$home/cache/$(basename "$tarball_uri")"
[ -f "$tarball" ] || "$aws_cli" s3 cp --only-show-errors "$tarball_uri" "$tarball"
PATH="$node_bin:$PATH" "$npm_cli" install -g --prefix "$home/toolkit" --omit=dev --no-audit --no-fund --loglevel=error "$tarball"

# --- the command the steps run
cat > "$home/bin/openevents.tmp" <<EOF
#!/usr/bin/env bash
# openevents on this EMR node (written by provisioning/emr/toolkit.sh).
set -euo pipefail
export PATH="$node_bin:\$PATH"
if [ -z "\${AWS_REGION:-}" ]; then
  token="\$(curl -fsS -m 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token || true)"
  AWS_REGION="\$(curl -fsS -m 2 -H "X-aws-ec2-metadata-token: \$token" http://169.254.169.254/latest/meta-data/placement/region || true)"
  [ -n "\$AWS_REGION" ] && export AWS_REGION
fi
exec "$home/toolkit/bin/openevents" "\$@"
EOF
chmod 0755 "$home/bin/openevents.tmp"
mv "$home/bin/openevents.tmp" "$home/bin/openevents"
echo "toolkit: $("$home/bin/openevents" --version 2>/dev/null || echo openevents) ready at $home/bin/openevents (node in $node_bin)"
