#!/usr/bin/env bash
# The README's second command: install what is missing, build (Release), run every test via ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh build test
bash tools/build.sh
cd build && ctest --output-on-failure -j 2 --timeout 900
