#!/usr/bin/env bash
# The browser test of attnmt serve's page (a ctest test): page.test.mjs in Debian's chromium
# through playwright-core, against the shipped model. tools/test.sh installs both
# (tools/install-deps.sh browser, then npm ci here). Exits 77, which ctest counts as skipped,
# saying why, only where the browser or its driver cannot be had.
# usage: tests/browser/run.sh ATTNMT_BINARY OUT_DIR
set -euo pipefail
BIN=${1:?usage: run.sh ATTNMT_BINARY OUT_DIR}
OUT=${2:?usage: run.sh ATTNMT_BINARY OUT_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
MODEL=$HERE/../../models/en-es.attnmt
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
skip() { echo "SKIPPED: $*"; exit 77; }
[ -x "$CHROMIUM" ] || skip "no browser at $CHROMIUM (install it: sudo bash tools/install-deps.sh browser)"
command -v node >/dev/null || skip "no node (playwright-core needs Node.js 20 or later)"
major=$(node -e 'console.log(process.versions.node.split(".")[0])')
[ "$major" -ge 20 ] || skip "node $(node --version) is older than playwright-core needs (20)"
[ -d "$HERE/node_modules/playwright-core" ] ||
  skip "playwright-core is not installed in tests/browser (run: (cd tests/browser && npm ci))"
exec node "$HERE/page.test.mjs" "$BIN" "$MODEL" "$OUT"
