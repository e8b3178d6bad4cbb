#!/usr/bin/env bash
# The one provisioning script of openevents machines. Idempotent: a second run changes nothing
# and takes seconds.
#
#   provision.sh box [--user NAME] [--no-vm] [--checks]
#       The operator workstation (Vagrantfile): Debian packages (git, Java 17, Python venv,
#       Node 20), then the project's own setup (scripts/setup.sh --test: npm packages, the
#       compiled toolkit, .venv with pyspark and moto, chromium, tmux) in this checkout, run as
#       NAME (default: the user who called sudo, else the caller).
#   provision.sh streamer --artifact s3://bucket/key.tgz|FILE [--no-vm]
#       The EC2 streamer (provisioning/ec2/user-data.yaml runs this): Node 20 and the AWS CLI,
#       the toolkit from its `npm pack` tarball (`npm install -g`), the system user
#       `openevents`, and the systemd unit openevents-streamer.service, enabled and started.
#
#   --no-vm   skip what needs a machine of its own: adding apt sources, creating system users,
#             installing and starting systemd units, running as another user. CI runs
#             `provision.sh box --no-vm --checks` (scripts/test.sh) on the machine it has.
#   --checks  also the tools CI lints provisioning/ with (provisioning/check.sh): shellcheck,
#             vagrant, systemd-analyze and cloud-init's schema validator.
#
# Needs Debian 12 (bookworm) or a derivative; runs apt-get as root (through sudo when not root).
set -euo pipefail

role="${1:-}"
[ "$role" = box ] || [ "$role" = streamer ] || { sed -n '2,22p' "$0" >&2; exit 2; }
shift
vm=1 checks=0 artifact="" user="${SUDO_USER:-$(id -un)}"
while [ $# -gt 0 ]; do
  case "$1" in
    --no-vm) vm=0 ;;
    --checks) checks=1 ;;
    --artifact) artifact="${2:?--artifact needs a value}"; shift ;;
    --user) user="${2:?--user needs a value}"; shift ;;
    *) echo "provision: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
say() { printf 'provision: %s\n' "$*"; }
if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi

# --- Debian packages: only the missing ones, so a provisioned machine makes no apt call at all.
apt_updated=0
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
  done
  [ "${#missing[@]}" -gt 0 ] || return 0
  say "installing Debian packages: ${missing[*]}"
  if [ "$apt_updated" = 0 ]; then "${sudo[@]}" apt-get update -qq; apt_updated=1; fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- Node.js 20 (Debian 12 ships 18): NodeSource's apt repository, so apt keeps it patched.
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
install_node() {
  [ "$(node_major)" -ge 20 ] && return 0
  if [ "$vm" = 0 ]; then
    say "Node.js 20 or newer is needed (found $(node --version 2>/dev/null || echo none)); without --no-vm this script adds NodeSource's apt repository"
    exit 1
  fi
  apt_install ca-certificates curl
  say "adding NodeSource's apt repository for Node.js 20"
  "${sudo[@]}" install -d -m 0755 /etc/apt/keyrings
  curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | "${sudo[@]}" tee /etc/apt/keyrings/nodesource.asc >/dev/null
  echo 'deb [signed-by=/etc/apt/keyrings/nodesource.asc] https://deb.nodesource.com/node_20.x nodistro main' |
    "${sudo[@]}" tee /etc/apt/sources.list.d/nodesource.list >/dev/null
  apt_updated=0
  apt_install nodejs
}

# --- The lint tools of provisioning/check.sh. cloud-init itself is unpacked from Debian's
#     package into the user's cache rather than installed: installed, it would run at this
#     machine's next boot. Its Python libraries are ordinary packages.
tools="${XDG_CACHE_HOME:-$HOME/.cache}/openevents/tools"
install_checks() {
  apt_install shellcheck vagrant systemd python3-yaml python3-jinja2 python3-jsonschema python3-jsonpatch \
    python3-configobj python3-netifaces python3-requests python3-serial python3-oauthlib
  [ -x "$tools/bin/cloud-init" ] && return 0
  say "unpacking Debian's cloud-init package into $tools (its schema validator)"
  local tmp
  tmp="$(mktemp -d)"
  if [ "$apt_updated" = 0 ]; then "${sudo[@]}" apt-get update -qq; apt_updated=1; fi
  (cd "$tmp" && apt-get download -qq cloud-init 2>/dev/null) || { say "apt-get download cloud-init failed"; rm -rf "$tmp"; exit 1; }
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
}

case "$role" in
  box)
    apt_install ca-certificates curl git openjdk-17-jre-headless python3 python3-venv python3-pip
    install_node
    [ "$checks" = 0 ] || install_checks
    # The project's own setup, as the user who works in the checkout (it installs chromium and
    # tmux itself, through sudo).
    if [ "$vm" = 1 ] && [ "$user" != "$(id -un)" ]; then
      home="$(getent passwd "$user" | cut -d: -f6)"
      if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- env HOME="$home" bash "$repo/scripts/setup.sh" --test
      else sudo -u "$user" -H bash "$repo/scripts/setup.sh" --test; fi
    else
      bash "$repo/scripts/setup.sh" --test
    fi
    say "box ready: cd $repo && node dist/cli/main.js --help"
    ;;
  streamer)
    [ -n "$artifact" ] || { echo "provision: streamer needs --artifact s3://…/openevents-<version>.tgz or a file" >&2; exit 2; }
    apt_install ca-certificates curl awscli
    install_node
    [ "$checks" = 0 ] || install_checks
    # The toolkit from its npm pack tarball (named by its content hash: a new build is a new
    # name); the one installed already is not installed again.
    artifacts=/var/cache/openevents
    "${sudo[@]}" install -d -m 0755 "$artifacts"
    tarball="$artifacts/$(basename "$artifact")"
    if [ ! -f "$tarball" ]; then
      case "$artifact" in
        s3://*) say "fetching $artifact"; "${sudo[@]}" aws s3 cp --only-show-errors "$artifact" "$tarball.part" ;;
        *) "${sudo[@]}" cp "$artifact" "$tarball.part" ;;
      esac
      "${sudo[@]}" mv "$tarball.part" "$tarball"
    fi
    changed=0
    if [ "$(cat "$artifacts/installed" 2>/dev/null)" != "$(basename "$tarball")" ]; then
      say "installing the toolkit from $(basename "$tarball")"
      "${sudo[@]}" npm install -g --omit=dev --no-audit --no-fund --loglevel=error "$tarball"
      basename "$tarball" | "${sudo[@]}" tee "$artifacts/installed" >/dev/null
      changed=1
    fi
    if [ "$vm" = 0 ]; then say "--no-vm: no system user, no unit started"; exit 0; fi
    id -u openevents >/dev/null 2>&1 || "${sudo[@]}" useradd --system --no-create-home --home-dir /var/lib/openevents --shell /usr/sbin/nologin openevents
    unit="$(npm root -g)/openevents/provisioning/ec2/openevents-streamer.service"
    if ! cmp -s "$unit" /etc/systemd/system/openevents-streamer.service; then
      "${sudo[@]}" install -m 0644 "$unit" /etc/systemd/system/openevents-streamer.service
      "${sudo[@]}" systemctl daemon-reload
      changed=1
    fi
    "${sudo[@]}" systemctl enable --quiet openevents-streamer.service
    # A new toolkit or unit restarts the streamer (it resumes from its checkpoint); else leave it be.
    if [ "$changed" = 1 ]; then "${sudo[@]}" systemctl restart openevents-streamer.service; else "${sudo[@]}" systemctl start openevents-streamer.service; fi
    say "streamer running: journalctl -u openevents-streamer -f"
    ;;
esac
