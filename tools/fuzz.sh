#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang, AddressSanitizer and UBSan in
# ./build-fuzz, and runs each on its seed corpus for SECONDS (default 30) with 1 worker.
# New inputs that reach new code go to build-fuzz/corpus/<target>/ (not committed); a finding
# leaves its input in build-fuzz/artifacts/<target>/ and fails the script.
# usage: tools/fuzz.sh [SECONDS] [TARGET...]   (docs/RELIABILITY.md has the long runs)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_model_file fuzz_corpus_reader fuzz_config fuzz_metrics)
bash tools/install-deps.sh build fuzz
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATTNMT_FUZZ=ON \
  -DATTNMT_TESTS=OFF -DATTNMT_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export OMP_NUM_THREADS=1
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t"
  rm -rf "build-fuzz/artifacts/$t"; mkdir -p "build-fuzz/artifacts/$t"
  echo "== $t: ${seconds} s"
  (cd build-fuzz && "./tests/fuzz/$t" -max_total_time="$seconds" -print_final_stats=1 \
     -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 -artifact_prefix="artifacts/$t/" \
     "corpus/$t" "../tests/fuzz/seeds/$t" >"artifacts/$t.log" 2>&1) || true
  grep -E "^#[0-9]+ *DONE|^stat::(number_of_executed_units|peak_rss)|INFO: Seed|SUMMARY|property broken" \
    "build-fuzz/artifacts/$t.log" || true
  if [ -n "$(ls -A "build-fuzz/artifacts/$t")" ]; then
    echo "fuzz: $t found failing inputs: build-fuzz/artifacts/$t/ (log: build-fuzz/artifacts/$t.log)"
    exit 1
  fi
done
echo "fuzz: ${#targets[@]} target(s) ran ${seconds} s each without a finding"
