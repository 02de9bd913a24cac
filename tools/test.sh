#!/usr/bin/env bash
# The README's second command: install what is missing, build (Release), run every test via ctest;
# then the same tests under AddressSanitizer + UBSan and a smoke run of the fuzz targets
# (tools/test-sanitized.sh; SANITIZE=0 skips that part).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh build test
bash tools/build.sh attnmt attnmt_tests
(cd build && ctest --output-on-failure -j 2 --timeout 900)
if [ "${SANITIZE:-1}" != 0 ]; then bash tools/test-sanitized.sh; fi
