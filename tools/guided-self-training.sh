#!/usr/bin/env bash
# Guided alignment without an external aligner (issue 16): a Transformer trains for M1 minutes,
# aligns its own training pairs by attention (its best layer, head and link rule, chosen on
# gold pairs when given by `align --calibrate`), then trains on for M2 more minutes with those
# links as guidance (train --resume --guided-alignment), so that one head learns to align as
# the model's best map already does, and sharper.
#
# usage: tools/guided-self-training.sh SRC TGT MODEL M1 M2 [GOLD_SRC GOLD_TGT GOLD_ALIGN] [-- train options]
#   e.g. tools/guided-self-training.sh train.de train.en deen.attnmt 40 20 \
#          dev.de dev.en dev.align -- --config models/transformer-small.ini --threads 2
# Writes MODEL (guided at the end), MODEL.stage1 (before guidance) and MODEL.align (the links).
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { sed -n '8,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 5 ] || usage
SRC=$1 TGT=$2 MODEL=$3 M1=$4 M2=$5
shift 5
GOLD=()
if [ $# -ge 3 ] && [ "$1" != "--" ]; then GOLD=("$1" "$2" "$3"); shift 3; fi
[ "${1:-}" = "--" ] && shift
B=build/attnmt

echo "== stage 1: $M1 minutes without guidance"
$B train --src "$SRC" --tgt "$TGT" -o "$MODEL" --max-time "$M1" "$@"
cp "$MODEL" "$MODEL.stage1"
# The training pairs are aligned by attention: saliency (a backward pass per target word) would
# take hours on a whole corpus. With gold pairs: the calibration table's best attention setting.
ALIGN_OPTS=(--alignment-method prediction)
if [ ${#GOLD[@]} -eq 3 ]; then
  echo "== the best way this model's attention aligns, on the gold pairs"
  best=$($B align -m "$MODEL" --src "${GOLD[0]}" --tgt "${GOLD[1]}" --calibrate "${GOLD[2]}" \
    --calibrate-rows 100000 | awk '!found && ($2 == "prediction" || $2 == "shifted") { print; found = 1 }')
  echo "$best"
  read -r _ method layer head aggregate links diagonal _ <<< "$best"
  [ "$head" = avg ] && head=-1
  ALIGN_OPTS=(--alignment-method "$method" --alignment-layer "$layer" --alignment-head "$head"
    --alignment-aggregate "$aggregate" --alignment-links "$links" --alignment-diagonal "$diagonal")
fi
echo "== its own links for the training pairs"
$B align -m "$MODEL" --src "$SRC" --tgt "$TGT" --format pharaoh "${ALIGN_OPTS[@]}" -o "$MODEL.align"
echo "== stage 2: $M2 more minutes with them as guidance"
$B train --src "$SRC" --tgt "$TGT" -o "$MODEL" --resume --max-time "$((M1 + M2))" \
  --guided-alignment "$MODEL.align" "$@"
