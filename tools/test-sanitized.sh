#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UBSan, then a smoke run of every fuzz target:
# builds the library, the program, the tests and the fuzz targets with clang in ./build-san
# (-DATTNMT_FUZZ=ON; -O1, the instrumented code need not be fast), runs ctest there and each
# fuzz target for FUZZ_SECONDS (default 30) on its seed corpus, two at a time (new inputs go
# to build-san/fuzz-corpus, never into tests/fuzz/seeds).
# usage: tools/test-sanitized.sh   (SANITIZE=1 tools/test.sh runs it after the Release tests;
# about 24 minutes on a 2-core machine, docs/RELIABILITY.md)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh build test fuzz
CC=clang CXX=clang++ cmake -S . -B build-san -DCMAKE_BUILD_TYPE=Sanitize \
  -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g -DNDEBUG" -DATTNMT_FUZZ=ON -DATTNMT_BENCH=OFF >/dev/null
cmake --build build-san -j "$(nproc)"
# Leaks are findings too; halt on the first UBSan report so that ctest sees it.
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
(cd build-san && ctest --output-on-failure -j 2 --timeout 900)
seconds="${FUZZ_SECONDS:-30}"
targets=(fuzz_model_file fuzz_corpus_reader fuzz_config fuzz_metrics)
rm -rf build-san/fuzz-artifacts
run() {
  local t=$1
  mkdir -p "build-san/fuzz-artifacts/$t" "build-san/fuzz-corpus/$t"
  OMP_NUM_THREADS=1 "build-san/tests/fuzz/$t" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -malloc_limit_mb=1024 -timeout=10 -artifact_prefix="build-san/fuzz-artifacts/$t/" \
    "build-san/fuzz-corpus/$t" "tests/fuzz/seeds/$t" >"build-san/fuzz-artifacts/$t.log" 2>&1 \
    && echo "fuzz smoke: $t: $(grep -o -m1 'Done [0-9]* runs' "build-san/fuzz-artifacts/$t.log")" \
    || { echo "fuzz smoke: $t FAILED:"; grep -E "ERROR|SUMMARY|property broken|Test unit" \
           "build-san/fuzz-artifacts/$t.log"; return 1; }
}
status=0
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  run "${targets[i]}" & a=$!
  run "${targets[i+1]}" & b=$!
  wait $a || status=1
  wait $b || status=1
done
exit $status
