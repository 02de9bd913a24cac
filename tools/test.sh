#!/usr/bin/env bash
# The README's second command: install what is missing, build (Release), run every test via ctest.
# SANITIZE=1 then runs the same tests under AddressSanitizer + UBSan and a smoke run of the fuzz
# targets (tools/test-sanitized.sh). It is off by default: it costs a second full build (about
# 15 more minutes on a 2-core machine), which would take CI past its 15-minute budget
# (docs/RELIABILITY.md has the figures).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh build test
# The browser test's chromium and playwright-core install while the build runs (apt and npm
# wait on the network, the build on the CPU). Where they cannot be installed, that one test is
# skipped, saying why (tests/browser/run.sh).
browser_log=$(mktemp)
(
  if bash tools/install-deps.sh browser; then
    (cd tests/browser && { [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund; }) ||
      echo "tools/test.sh: npm ci in tests/browser failed: the browser test will be skipped"
  else
    echo "tools/test.sh: chromium could not be installed: the browser test will be skipped"
  fi
) > "$browser_log" 2>&1 &
browser_deps=$!
bash tools/build.sh attnmt attnmt_tests
wait "$browser_deps" || true
cat "$browser_log" >&2
rm -f "$browser_log"
(cd build && ctest --output-on-failure -j 2 --timeout 900)
if [ "${SANITIZE:-0}" != 0 ]; then bash tools/test-sanitized.sh; fi
