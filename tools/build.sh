#!/usr/bin/env bash
# Configures and builds attnmt (Release, -O3) in ./build with both cores.
# usage: tools/build.sh [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" >/dev/null
# Targets may be named (tools/test.sh builds only the program and the tests); default: all.
cmake --build build -j "$(nproc)" ${1:+--target "$@"}
