#!/usr/bin/env bash
# Lints what provisions machines, with the tools that run it (test/ops/provisioning.test.ts runs
# this inside `npm test`; scripts/setup.sh --test installs the tools):
#   ShellCheck           every shell script of the project
#   systemd-analyze      `verify` of every systemd unit under provisioning/
#   cloud-init           `schema` of the EC2 user-data, as `openevents ec2 user-data` renders it
#   vagrant              `validate --ignore-provider` of the Vagrantfile (no hypervisor needed)
#
#   check.sh                       all four
#   check.sh CHECK [FILE...]       one of: shellcheck, units, user-data, vagrant — on the given
#                                  files (a folder holding a Vagrantfile, for vagrant) or its defaults
# A tool that is missing is skipped with one line, except under CI, where that fails — unless
# this machine's apt sources do not offer it at all (vagrant is gone from some Debian releases).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
# (scripts/setup.sh --test unpacks cloud-init there)
PATH="${XDG_CACHE_HOME:-$HOME/.cache}/openevents/tools/bin:$PATH"
failed=0

say() { printf 'check: %s\n' "$*"; }
have() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if ! apt-cache policy "${3:-$1}" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    say "skipped $2: $1 is not installed, and this machine's apt sources have no ${3:-$1} package to install it from"
  elif [ -n "${CI:-}" ] && [ "${CI}" != false ] && [ "${CI}" != 0 ]; then
    say "FAIL $2: $1 is not installed (bash scripts/setup.sh --test installs it)"
    failed=1
  else
    say "skipped $2: $1 is not installed (bash scripts/setup.sh --test installs it)"
  fi
  return 1
}
# Files the repository holds (tracked or new, not ignored).
project_files() { git ls-files --cached --others --exclude-standard "$@" | sort -u; }

check_shellcheck() {
  have shellcheck shellcheck || return 0
  local files=("$@")
  if [ "${#files[@]}" = 0 ]; then
    while IFS= read -r f; do
      [ -f "$f" ] || continue
      case "$f" in *.sh) files+=("$f"); continue ;; esac
      head -c 64 "$f" | grep -qE '^#!.*\b(ba|da)?sh\b' && files+=("$f")
    done < <(project_files)
  fi
  if shellcheck --severity=style --external-sources "${files[@]}"; then say "ok shellcheck: ${#files[@]} script(s)"
  else say "FAIL shellcheck"; failed=1; fi
}

check_units() {
  have systemd-analyze "systemd units" systemd || return 0
  local files=("$@")
  if [ "${#files[@]}" = 0 ]; then
    mapfile -t files < <(project_files 'provisioning/**.service' 'provisioning/**.timer' 'provisioning/**.socket' 'provisioning/**.path')
  fi
  [ "${#files[@]}" -gt 0 ] || { say "ok systemd units: none"; return 0; }
  # A root of its own: the host's units (targets the unit names) and the units under test side
  # by side, with a stand-in for each program they start that exists only where they are
  # installed (/usr/bin/openevents).
  local root unit exe out
  root="$(mktemp -d)"
  mkdir -p "$root/usr/lib/systemd" "$root/etc/systemd/system"
  cp -r /usr/lib/systemd/system "$root/usr/lib/systemd/" 2>/dev/null || cp -r /lib/systemd/system "$root/usr/lib/systemd/"
  for unit in "${files[@]}"; do cp "$unit" "$root/etc/systemd/system/"; done
  while IFS= read -r exe; do
    mkdir -p "$root$(dirname "$exe")"
    printf '#!/bin/sh\n' >"$root$exe"
    chmod +x "$root$exe"
  done < <(sed -n 's/^Exec[A-Za-z]*=[-@+!:]*\(\/[^ ]*\).*/\1/p' "${files[@]}" | sort -u)
  # verify exits 0 on a value it cannot parse (it ignores the line): any output is a failure.
  out="$(cd "$root/etc/systemd/system" && systemd-analyze verify --root="$root" --man=no "${files[@]##*/}" 2>&1)" || true
  rm -rf "$root"
  if [ -z "$out" ]; then say "ok systemd units: ${#files[@]} unit(s)"
  else printf '%s\n' "$out"; say "FAIL systemd units"; failed=1; fi
}

check_user_data() {
  have cloud-init "cloud-init schema" || return 0
  local files=("$@") tmp=""
  if [ "${#files[@]}" = 0 ]; then
    # The real rendering, from a config that sets every value the template uses.
    tmp="$(mktemp -d)"
    printf '%s\n' '{"profile":"aws","lake":"s3://openevents-lake/prod","source":{"url":"https://stream.meetup.com/2/open_events"},"aws":{"region":"eu-west-1","kinesis":{"stream":"openevents"}}}' >"$tmp/openevents.config.json"
    if ! node "$repo/dist/cli/main.js" --config "$tmp/openevents.config.json" ec2 user-data \
      --artifact s3://openevents-lake/prod/_ec2/openevents-0.1.0-0123456789ab.tgz >"$tmp/user-data.yaml"; then
      rm -rf "$tmp"; say "FAIL cloud-init schema: openevents ec2 user-data failed"; failed=1; return 0
    fi
    files=("$tmp/user-data.yaml")
  fi
  local f ok=1
  for f in "${files[@]}"; do cloud-init schema --config-file "$f" >/dev/null || ok=0; done
  [ -z "$tmp" ] || rm -rf "$tmp"
  if [ "$ok" = 1 ]; then say "ok cloud-init schema: ${#files[@]} user-data file(s)"
  else say "FAIL cloud-init schema"; failed=1; fi
}

check_vagrant() {
  have vagrant "vagrant validate" || return 0
  local dir="${1:-$repo}"
  # Its own home: no boxes, plugins or state of the user's are read, and nothing is left there.
  local home
  home="$(mktemp -d)"
  if (cd "$dir" && VAGRANT_HOME="$home" VAGRANT_DOTFILE_PATH="$home/dot" VAGRANT_CHECKPOINT_DISABLE=1 vagrant validate --ignore-provider >/dev/null); then
    say "ok vagrant validate: $dir/Vagrantfile"
  else say "FAIL vagrant validate: $dir/Vagrantfile"; failed=1; fi
  rm -rf "$home"
}

what="${1:-all}"
[ $# -eq 0 ] || shift
case "$what" in
  all)
    # The four at once (vagrant alone takes seconds to start), their output in order.
    out="$(mktemp -d)"
    pids=()
    for one in shellcheck units user-data vagrant; do
      bash "$0" "$one" >"$out/$one" 2>&1 &
      pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    cat "$out/shellcheck" "$out/units" "$out/user-data" "$out/vagrant"
    rm -rf "$out"
    ;;
  shellcheck) check_shellcheck "$@" ;;
  units) check_units "$@" ;;
  user-data) check_user_data "$@" ;;
  vagrant) check_vagrant "$@" ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
exit "$failed"
