#!/usr/bin/env bash
# Alignment quality against human gold links: the alignment error rate (AER), precision and
# recall of `attnmt align` on the 64 gold pairs of ../shared/corpora/align-de-en, for every
# decoder layer and head, method (prediction, shifted, saliency, occlusion) and word aggregation (sum,
# mean, max) of a German -> English model (`align --calibrate`: one table, best first), the
# same for an English -> German model (gold links flipped), the two combined by each
# --symmetrize, and the two calibrated on one half of the gold pairs and combined on the other
# (held out).
# Training the models is separate (the commands are in docs/BENCHMARKS.md, "Alignment").
#
# Usage: tools/bench-align.sh DE_EN_MODEL [EN_DE_MODEL] [THREADS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
FWD=${1:?usage: tools/bench-align.sh DE_EN_MODEL [EN_DE_MODEL] [THREADS]}
REV=${2:-}
THREADS=${3:-2}
A=${BENCH_SHARED:-../shared}/corpora/align-de-en
B=build/attnmt
[ -f "$A/dev.align" ] || { echo "tools/bench-align.sh: no $A/dev.align (the shared corpora)" >&2; exit 1; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
layers_heads() {  # MODEL -> "layer head" pairs: each layer, heads averaged (-1) and each head
  local layers heads
  layers=$($B info "$1" | awk -F' = ' '$1 == "dec_layers" { print $2 }')
  heads=$($B info "$1" | awk -F' = ' '$1 == "heads" { print $2 }')
  for ((l = 0; l < ${layers:-1}; ++l)); do
    for ((h = -1; h < ${heads:-0}; ++h)); do echo "$l $h"; done
  done
}
score() {  # DIRECTION METHOD LAYER HEAD FLIP ALIGN-ARGS...
  local dir=$1 method=$2 layer=$3 head=$4 flip=$5
  shift 5
  $B align "$@" --format pharaoh --alignment-method "$method" --alignment-layer "$layer" \
    --alignment-head "$head" --threads "$THREADS" -o "$OUT/a.align"
  local s
  s=$($B score --alignments $flip --hyp "$OUT/a.align" --ref "$A/dev.align")
  printf '%-6s %-10s %5s %4s  %s\n' "$dir" "$method" "$layer" "$head" "$s"
}
echo "== de -> en, every layer, head, method and aggregation (align --calibrate)"
$B align -m "$FWD" --src "$A/dev.de" --tgt "$A/dev.en" --calibrate "$A/dev.align" --threads "$THREADS"
if [ -n "$REV" ]; then
  echo "== en -> de, the same (gold links flipped)"
  $B align -m "$REV" --src "$A/dev.en" --tgt "$A/dev.de" --calibrate "$A/dev.align" \
    --calibrate-flip --threads "$THREADS"
  echo "== both directions combined (heads averaged, aggregate sum)"
  printf '%-6s %-10s %5s %4s  %s\n' combine method layer head "AER (precision, recall)"
fi
if [ -n "$REV" ]; then
  for sym in intersect union grow-diag-final-and; do
    while read -r layer head; do
      for method in prediction shifted; do
        score "$sym" $method "$layer" "$head" "" -m "$FWD" --reverse-model "$REV" \
          --src "$A/dev.de" --tgt "$A/dev.en" --symmetrize $sym
      done
    done < <(layers_heads "$FWD" | awk '$2 == -1')
  done
fi
if [ -n "$REV" ]; then
  # Calibrating on the pairs that are scored flatters the choice: here both models are
  # calibrated (every setting, saliency included) on the even-numbered gold pairs and their
  # combination is scored on the odd-numbered ones, and the other way round.
  echo "== both directions, held out (calibrated on one half of the gold pairs, scored on the other)"
  for ext in de en align; do
    awk 'NR % 2 == 1' "$A/dev.$ext" > "$OUT/half0.$ext"
    awk 'NR % 2 == 0' "$A/dev.$ext" > "$OUT/half1.$ext"
  done
  for h in 0 1; do
    $B align -m "$FWD" --src "$OUT/half$h.de" --tgt "$OUT/half$h.en" --calibrate "$OUT/half$h.align" \
      --threads "$THREADS" --save-calibrated "$OUT/fwd$h.attnmt" > /dev/null 2>&1
    $B align -m "$REV" --src "$OUT/half$h.en" --tgt "$OUT/half$h.de" --calibrate "$OUT/half$h.align" \
      --calibrate-flip --threads "$THREADS" --save-calibrated "$OUT/rev$h.attnmt" > /dev/null 2>&1
  done
  cat "$OUT/half0.align" "$OUT/half1.align" > "$OUT/halves.align"
  for sym in intersect union grow-diag-final-and agree; do
    for h in 0 1; do
      o=$((1 - h))
      $B align -m "$OUT/fwd$h.attnmt" --reverse-model "$OUT/rev$h.attnmt" --src "$OUT/half$o.de" \
        --tgt "$OUT/half$o.en" --format pharaoh --symmetrize $sym --threads "$THREADS" \
        -o "$OUT/held$o.align"
    done
    cat "$OUT/held0.align" "$OUT/held1.align" > "$OUT/held.align"
    printf '%-20s %s\n' "$sym" "$($B score --alignments --hyp "$OUT/held.align" --ref "$OUT/halves.align")"
  done
fi
