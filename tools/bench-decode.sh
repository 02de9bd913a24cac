#!/usr/bin/env bash
# Translation speed of two builds of attnmt, measured in one run: each configuration is
# translated ROUNDS times by each build in turn (A, B, A, B, ...), so that a noisy shared machine
# weighs on both alike. Prints, per configuration, each run's seconds and peak memory, the medians,
# the ratio A/B (above 1: B is faster), whether the outputs are identical, and BLEU when a
# reference is given.
# usage: tools/bench-decode.sh A_BINARY B_BINARY [MODEL] [INPUT] [REFERENCE]
#   defaults: models/en-es.attnmt, corpora/bible.en-es/test.en and (for that input only) its
#   reference corpora/bible.en-es/test.es
#   CONFIGS (env): ';'-separated translate options, one configuration each; default: beam 5 in
#   fp32 and int8 on 2 threads, greedy on 2 threads, beam 5 on 1 thread. ROUNDS (env): 2.
# Paths are relative to where it is run. Keep A_BINARY a copy (cp build/attnmt
# /tmp/attnmt.before) before rebuilding. Not a test.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,13p' "$0" >&2; exit 2; }
# Paths given are the caller's; the defaults are the repository's.
given() { if [ -n "$1" ]; then realpath -m -- "$1"; fi; }
A=$(given "$1") B=$(given "$2")
MODEL=$(given "${3:-}") INPUT=$(given "${4:-}") REF=$(given "${5:-}")
cd "$(dirname "$0")/.."
MODEL=${MODEL:-models/en-es.attnmt}
if [ -z "$INPUT" ]; then  # the default input, with its reference
  INPUT=corpora/bible.en-es/test.en
  REF=${REF:-corpora/bible.en-es/test.es}
fi
ROUNDS=${ROUNDS:-2}
DEFAULT_CONFIGS="--threads 2 --precision fp32;--threads 2 --precision int8"
DEFAULT_CONFIGS+=";--threads 2 --precision fp32 --greedy;--threads 1 --precision fp32"
CONFIGS=${CONFIGS:-$DEFAULT_CONFIGS}
for f in "$A" "$B"; do [ -x "$f" ] || { echo "bench-decode: no program at $f" >&2; exit 1; }; done
for f in "$MODEL" "$INPUT"; do [ -f "$f" ] || { echo "bench-decode: no file $f" >&2; exit 1; }; done
WORK=$(mktemp -d /tmp/attnmt-bench-decode.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

median() {
  sort -g | awk '{v[NR] = $1}
                 END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

echo "A = $A"
echo "B = $B"
echo "model $MODEL, input $INPUT ($(wc -l < "$INPUT") lines), $ROUNDS rounds, $(date -u +%FT%TZ)"
IFS=';' read -r -a configs <<< "$CONFIGS"
for config in "${configs[@]}"; do
  read -r -a opts <<< "$config"
  echo "== translate $config"
  for side in A B; do : > "$WORK/$side.times"; done
  for ((round = 1; round <= ROUNDS; ++round)); do
    for side in A B; do
      bin=$A; [ $side = B ] && bin=$B
      /usr/bin/time -f "%e %M" -o "$WORK/time" "$bin" translate -m "$MODEL" -i "$INPUT" \
        -o "$WORK/$side.out" "${opts[@]}" 2> "$WORK/$side.err" ||
        { cat "$WORK/$side.err" >&2; exit 1; }
      read -r secs kb < "$WORK/time"
      echo "$secs $kb" >> "$WORK/$side.times"
      printf '  %s round %d: %7.2f s, %6d MB peak\n' $side $round "$secs" $((kb / 1024))
    done
  done
  ta=$(cut -d' ' -f1 "$WORK/A.times" | median) tb=$(cut -d' ' -f1 "$WORK/B.times" | median)
  ma=$(cut -d' ' -f2 "$WORK/A.times" | median) mb=$(cut -d' ' -f2 "$WORK/B.times" | median)
  printf '  median: A %.2f s, B %.2f s: A/B = %.2fx; peak A %d MB, B %d MB\n' "$ta" "$tb" \
    "$(awk -v a="$ta" -v b="$tb" 'BEGIN {print a / b}')" $((${ma%.*} / 1024)) $((${mb%.*} / 1024))
  if cmp -s "$WORK/A.out" "$WORK/B.out"; then echo "  outputs identical"
  else echo "  outputs differ in $(diff "$WORK/A.out" "$WORK/B.out" | grep -c '^<') lines"; fi
  if [ -f "$REF" ]; then
    for side in A B; do
      echo "  $side: $("$B" score --hyp "$WORK/$side.out" --ref "$REF" | head -1)"
    done
  fi
done
