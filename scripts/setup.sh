#!/usr/bin/env bash
# Installs what openevents needs, idempotently and fast when already done.
#   scripts/setup.sh          npm packages and the compiled toolkit in dist/ (enough for the local
#                             profile and `openevents demo`)
#   scripts/setup.sh --test   also the Python environment (.venv: pyspark, moto, pytest) and the
#                             Debian packages the tests drive (chromium, tmux)
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

# --- Debian packages the tests drive: a real browser and a real terminal multiplexer.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
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
