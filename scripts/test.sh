#!/usr/bin/env bash
# The test command: installs what the tests need, then runs every test
# (type check, vitest suites, Spark pytest suites).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export PATH="$PWD/.venv/bin:$PATH"
echo "== typecheck"
npx tsc --noEmit
echo "== vitest"
npx vitest run "$@"
echo "== pytest (spark/)"
.venv/bin/python -m pytest spark -q -p no:cacheprovider
