#!/usr/bin/env bash
# Installs what openevents needs, idempotently and fast when already done.
#   scripts/setup.sh          npm packages and the compiled toolkit in dist/ (enough for the local
#                             profile and `openevents demo`)
#   scripts/setup.sh --test   also the Python environment (.venv: pyspark, moto, pytest) and the
#                             Debian packages the tests drive (chromium, tmux, zsh, fish)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

say() { printf 'setup: %s\n' "$*"; }

# --- Node packages: reinstall only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# --- The compiled toolkit: rebuilt only when src/ changed since the last build (well under a second).
node scripts/build.mjs --if-stale --quiet

[ "$want_test" = 1 ] || exit 0

# --- Debian packages the tests drive: a real browser, a real terminal multiplexer, and the shells
#     whose completion scripts `openevents completion` prints.
missing=()
for tool in chromium tmux zsh fish; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  say "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Python environment for Spark jobs, their tests and moto_server.
stamp=.venv/.requirements.sha256
want_sum=$(sha256sum spark/requirements.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want_sum" ]; then
  say "creating the Python environment (.venv) from spark/requirements.txt"
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r spark/requirements.txt
  echo "$want_sum" > "$stamp"
fi
command -v java >/dev/null 2>&1 || { say "Java 17 is required for Spark (apt-get install openjdk-17-jre-headless)"; exit 1; }

# --- s3a:// for Spark: hadoop-aws of pyspark's own Hadoop version and the AWS SDK bundle that
#     Hadoop release was built with (hadoop-project's aws-java-sdk-v2.version), from Maven Central,
#     into pyspark's jars folder — so every spark-submit of this environment reads and writes
#     s3a:// paths, as on EMR. Pinned per Hadoop version; a new pyspark needs a line here.
jars=$(.venv/bin/python -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')
hadoop=$(find "$jars" -maxdepth 1 -name 'hadoop-client-api-*.jar' -printf '%f\n' | sed -n 's/^hadoop-client-api-\(.*\)\.jar$/\1/p')
case "$hadoop" in
  3.4.1) sdk_bundle=2.24.6 ;;
  *) say "no AWS SDK bundle pinned for pyspark's Hadoop '$hadoop': add it to scripts/setup.sh (hadoop-project's aws-java-sdk-v2.version)"; exit 1 ;;
esac
if [ ! -f "$jars/hadoop-aws-$hadoop.jar" ] || [ ! -f "$jars/bundle-$sdk_bundle.jar" ]; then
  if ! command -v mvn >/dev/null 2>&1; then
    say "installing Maven (to fetch hadoop-aws)"
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends maven >/dev/null
  fi
  say "fetching hadoop-aws $hadoop and the AWS SDK bundle $sdk_bundle for s3a:// (Maven Central; the bundle is large)"
  for artifact in "org.apache.hadoop:hadoop-aws:$hadoop" "software.amazon.awssdk:bundle:$sdk_bundle"; do
    mvn -q -B dependency:copy -Dartifact="$artifact" -DoutputDirectory="$jars" -Dmdep.overWriteReleases=false
  done
fi
