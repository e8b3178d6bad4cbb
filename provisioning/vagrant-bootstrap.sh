#!/usr/bin/env bash
# Provisions the Vagrant box: system packages, then the project's own setup script.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends ca-certificates curl git tmux openjdk-17-jre-headless \
  python3 python3-venv python3-pip chromium nodejs npm >/dev/null
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  # Debian 12 ships Node 18; the toolkit needs Node 20 or newer.
  npm install -g n@10 >/dev/null && n 20 >/dev/null
  hash -r
fi
cd /openevents
sudo -u vagrant bash scripts/setup.sh --test
