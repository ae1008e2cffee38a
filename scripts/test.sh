#!/usr/bin/env bash
# The whole test suite: set-up (idempotent), then every test file through tap, ending with
# the line `N passed, N failed`.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/setup.sh
exec node_modules/.bin/bun scripts/run-tests.ts "$@"
