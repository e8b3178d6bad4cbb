#!/usr/bin/env bash
# Installs what openevents needs, idempotently and fast when already done.
#   scripts/setup.sh          npm packages and the compiled toolkit in dist/ (enough for the local
#                             profile and `openevents demo`)
#   scripts/setup.sh --test   also the Python environment (.venv: pyspark, moto, pytest), the
#                             Debian packages the tests drive (chromium, tmux, zsh, fish) and the
#                             tools provisioning/check.sh lints provisioning with (shellcheck,
#                             vagrant, systemd-analyze, cloud-init's schema validator)
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

# --- The provisioning checks' tools (provisioning/check.sh, run by test/ops/provisioning.test.ts),
#     all Debian packages. vagrant only where apt has it (Debian 12 does; check.sh says why it
#     skips `vagrant validate` where it does not). cloud-init itself is unpacked from its package
#     into the user's cache rather than installed: installed, it would run at this machine's next
#     boot; its Python libraries are ordinary packages.
packages=(shellcheck systemd python3-yaml python3-jinja2 python3-jsonschema python3-jsonpatch python3-configobj
  python3-netifaces python3-requests python3-serial python3-oauthlib)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done
command -v vagrant >/dev/null 2>&1 || missing+=(vagrant)
tools="${XDG_CACHE_HOME:-$HOME/.cache}/openevents/tools"
if [ "${#missing[@]}" -gt 0 ] || [ ! -x "$tools/bin/cloud-init" ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  if [[ " ${missing[*]} " == *" vagrant "* ]] && ! apt-cache policy vagrant 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    say "vagrant is not in this machine's apt sources: provisioning/check.sh will skip \`vagrant validate\`"
    missing=("${missing[@]/vagrant/}")
  fi
  read -r -a missing <<<"${missing[*]}"
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages for the provisioning checks: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [ ! -x "$tools/bin/cloud-init" ]; then
    say "unpacking Debian's cloud-init package into $tools (its schema validator)"
    tmp="$(mktemp -d)"
    # (as root, apt would hand the download to its _apt user, who cannot write this folder)
    if [ "$(id -u)" = 0 ]; then sandbox=(-o APT::Sandbox::User=root); else sandbox=(); fi
    (cd "$tmp" && apt-get download -qq "${sandbox[@]}" cloud-init)
    rm -rf "$tools/cloud-init" && mkdir -p "$tools/cloud-init" "$tools/bin"
    dpkg-deb -x "$tmp"/cloud-init_*.deb "$tools/cloud-init"
    rm -rf "$tmp"
    # Debian's python3, whose dist-packages hold the libraries installed above.
    cat >"$tools/bin/cloud-init.part" <<'SH'
#!/bin/sh
lib="$(dirname "$(dirname "$(readlink -f "$0")")")/cloud-init/usr/lib/python3/dist-packages"
PYTHONPATH="$lib" exec /usr/bin/python3 -c 'import sys; from cloudinit.cmd.main import main; sys.exit(main())' "$@"
SH
    chmod +x "$tools/bin/cloud-init.part"
    mv "$tools/bin/cloud-init.part" "$tools/bin/cloud-init"
  fi
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
