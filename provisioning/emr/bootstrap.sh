#!/usr/bin/env bash
# EMR bootstrap action of openevents: runs on every node of a cluster before Spark starts.
#   bootstrap.sh s3://bucket/prefix/<code hash>/
# 1. copies the job code (uploaded by `openevents emr run`, addressed by its content hash) to
#    /home/hadoop/openevents/<hash> and points /home/hadoop/openevents/current at it;
# 2. installs the jobs' Python dependencies (provisioning/emr/requirements.txt) for the
#    cluster's python3 — Spark itself comes with the EMR release, never from pip.
# Idempotent: a node that runs it twice ends the same. Any failure fails the bootstrap action,
# and EMR then ends the cluster with the reason BOOTSTRAP_FAILURE.
# OPENEVENTS_NODE_HOME, AWS_CLI, PYTHON and SUDO override the defaults (tests run it off-cluster).
set -euo pipefail

code_uri="${1:?usage: bootstrap.sh s3://bucket/prefix/<code hash>/}"
case "$code_uri" in
  s3://*/) ;;
  s3://*) code_uri="$code_uri/" ;;
  *) echo "bootstrap: not an s3:// URI: $code_uri" >&2; exit 2 ;;
esac
home="${OPENEVENTS_NODE_HOME:-/home/hadoop/openevents}"
aws_cli="${AWS_CLI:-aws}"
python="${PYTHON:-python3}"
sudo="${SUDO-sudo}"
hash="$(basename "$code_uri")"
dest="$home/$hash"

if [ ! -f "$dest/_complete.json" ]; then
  mkdir -p "$home"
  tmp="$(mktemp -d "$home/.$hash.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  "$aws_cli" s3 cp --recursive --only-show-errors "$code_uri" "$tmp"
  [ -f "$tmp/_complete.json" ] || { echo "bootstrap: $code_uri has no _complete.json (upload unfinished)" >&2; exit 1; }
  rm -rf "$dest"
  mv "$tmp" "$dest"
fi
ln -sfn "$dest" "$home/current"

# System-wide: Spark's executors run as the YARN user, not as hadoop (who runs this script).
# shellcheck disable=SC2086 # $sudo is empty or one word
$sudo "$python" -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
  -r "$dest/provisioning/emr/requirements.txt"
echo "bootstrap: openevents code $hash ready in $dest"
