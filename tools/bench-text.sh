#!/usr/bin/env bash
# Times the tokenizer and batching on the shared En/Ja corpus (50k pairs), with 2 threads:
#   (a) `attnmt vocab`: joint 8k unigram vocabulary on train.en + train.ja
#   (b) bench_text (tools/microbench, a CMake target): read + validate + encode the 50k pairs,
#       then batch one epoch
# usage: tools/bench-text.sh [BUILD_DIR] [CORPUS_DIR]
# Needs a built attnmt (BUILD_DIR, default ./build). Keeps the vocabulary at
# /tmp/attnmt-spm8k.model (+ .vocab) for later benchmarks. Not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh build bench >/dev/null  # bc
BUILD=${1:-build}
CORPUS=${2:-../shared/corpora/small_parallel_enja}
THREADS=2
OUT=/tmp/attnmt-spm8k
[ -x "$BUILD/attnmt" ] || { echo "no $BUILD/attnmt: build first (tools/build.sh)" >&2; exit 1; }
[ -f "$CORPUS/train.en" ] || { echo "no corpus at $CORPUS" >&2; exit 1; }

cmake --build "$BUILD" --target bench_text -j 2 >/dev/null
BENCH="$BUILD/tools/microbench/bench_text"

now() { date +%s.%N; }
echo "== (a) joint 8k unigram vocabulary, character coverage 0.9995 (attnmt's default)"
t0=$(now)
"$BUILD/attnmt" vocab --src "$CORPUS/train.en" --tgt "$CORPUS/train.ja" --size 8000 \
  -o "$OUT" --threads $THREADS
t1=$(now)
echo "vocab 8k (0.9995): $(echo "$t1 - $t0" | bc) s"

echo "== (a') the same with character coverage 1.0 (what the reference uses)"
TMP=$(mktemp -d)
t0=$(now)
"$BUILD/attnmt" vocab --src "$CORPUS/train.en" --tgt "$CORPUS/train.ja" --size 8000 \
  -o "$TMP/cov1" --character-coverage 1.0 --threads $THREADS >/dev/null
t1=$(now)
echo "vocab 8k (1.0): $(echo "$t1 - $t0" | bc) s"
rm -rf "$TMP"

echo "== (b) read + encode + batch the 50k training pairs ($THREADS threads)"
"$BENCH" "$OUT.model" "$CORPUS/train.en" "$CORPUS/train.ja" $THREADS
