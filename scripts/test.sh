#!/usr/bin/env bash
# The test command (`npm test`): installs what the tests need, builds dist/ when stale, then runs
# every test (type check, vitest suites, Spark pytest suites). Arguments go to vitest.
#
# Under CI (CI set, as .ci/run has it) the whole run happens once, in a fresh `git clone` of HEAD
# inside an empty temp folder — nothing beside it, nothing installed in it by hand — which shows
# that the repository alone passes its own test command. A developer's run stays in place.
set -euo pipefail
cd "$(dirname "$0")/.."

# (The guard variable is deliberately outside the OPENEVENTS_ namespace: the config rejects unknown
# OPENEVENTS_* variables as typos, and every CLI the tests spawn inherits this environment.)
if [ -n "${CI:-}" ] && [ "${CI}" != false ] && [ "${CI}" != 0 ] && [ -z "${OE_TEST_IN_CLONE:-}" ]; then
  parent=$(mktemp -d "${TMPDIR:-/tmp}/openevents-clone-XXXXXX")
  trap 'rm -rf "$parent"' EXIT
  # mktemp makes it 0700; tests that drop to another user (test/lake/faults.test.ts) run the clone's CLI.
  chmod 755 "$parent"
  head=$(git rev-parse HEAD)
  [ -z "$(git status --porcelain --untracked-files=no)" ] || echo "test: uncommitted changes are not in the clone; it tests HEAD ($head)"
  echo "== clone: $head into $parent/openevents (an empty folder), then the README's test command there"
  git clone --quiet --no-checkout "$PWD" "$parent/openevents"
  git -C "$parent/openevents" checkout --quiet --detach "$head"
  cd "$parent/openevents"
  # The outer npm's settings (npm_config_*, npm_package_*) must not steer the clone's npm.
  mapfile -t npm_vars < <(compgen -e | grep -i '^npm_' || true)
  [ "${#npm_vars[@]}" -eq 0 ] || unset "${npm_vars[@]}"
  OE_TEST_IN_CLONE=1 npm test -- "$@"
  exit 0
fi

# The machine (Debian packages) and the project (scripts/setup.sh --test, with the provisioning lint tools):
# the Vagrant box's provisioning, less what needs a VM of its own.
bash provisioning/provision.sh box --no-vm
export PATH="$PWD/.venv/bin:$PATH"
echo "== typecheck"
npx tsc --noEmit
echo "== vitest"
npx vitest run "$@"
echo "== pytest (spark/)"
.venv/bin/python -m pytest spark -q -p no:cacheprovider
