#!/usr/bin/env bash
# The one provisioning script of openevents machines. Idempotent: a second run changes nothing
# and takes seconds.
#
#   provision.sh box [--user NAME] [--no-vm]
#       The operator workstation (Vagrantfile): Debian packages (git, Java 17, Python venv,
#       Node 20), then the project's own setup (scripts/setup.sh --test: npm packages, the
#       compiled toolkit, .venv with pyspark and moto, chromium, tmux, the provisioning lint
#       tools) in this checkout, run as NAME (default: the user who called sudo, else the caller).
#   provision.sh streamer --artifact s3://bucket/key.tgz|FILE [--no-vm]
#       The EC2 streamer (provisioning/ec2/user-data.yaml runs this): Node 20 and the AWS CLI,
#       the toolkit from its `npm pack` tarball (`npm install -g`), the system user
#       `openevents`, and the systemd unit openevents-streamer.service, enabled and started.
#
#   --no-vm   skip what needs a machine of its own: adding apt sources, creating system users,
#             installing and starting systemd units, running as another user. CI runs
#             `provision.sh box --no-vm` (scripts/test.sh) on the machine it has.
#
# Needs Debian 12 (bookworm) or a derivative; runs apt-get as root (through sudo when not root).
set -euo pipefail

role="${1:-}"
[ "$role" = box ] || [ "$role" = streamer ] || { sed -n '2,19p' "$0" >&2; exit 2; }
shift
vm=1 artifact="" user="${SUDO_USER:-$(id -un)}"
while [ $# -gt 0 ]; do
  case "$1" in
    --no-vm) vm=0 ;;
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

case "$role" in
  box)
    apt_install ca-certificates curl git openjdk-17-jre-headless python3 python3-venv python3-pip
    install_node
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
