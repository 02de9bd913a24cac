#!/usr/bin/env bash
# The main job on the default model: translate corpora/sample.en (English) to Spanish and write
# alignment heatmaps (SVG) of its first lines into demo/, with the shipped model
# models/en-es.attnmt (see models/README.md). Should that file be missing (a trimmed copy of the
# repository), it trains a small LSTM-attention model on corpora/bible.en-es for DEMO_MINUTES.
set -euo pipefail
cd "$(dirname "$0")/.."
A=build/attnmt
C=corpora/bible.en-es
OUT=demo
mkdir -p "$OUT"
MODEL=models/en-es.attnmt
if [ ! -f "$MODEL" ]; then
  MODEL=$OUT/en-es-demo.attnmt
  if [ ! -f "$MODEL" ]; then
    echo "demo: no shipped model yet; training a small one for ${DEMO_MINUTES:-4} minutes -> $MODEL"
    $A train --config models/lstm-attention.ini --src $C/train.en --tgt $C/train.es \
      --valid-src $C/dev.en --valid-tgt $C/dev.es --vocab-size 4000 -o "$MODEL" \
      --max-time "${DEMO_MINUTES:-4}" --valid-every 500 --valid-bleu-sentences 100 --log-every 50
  fi
fi
$A translate -m "$MODEL" -i corpora/sample.en -o $OUT/sample.es --beam 5
$A align -m "$MODEL" --src corpora/sample.en --format svg -o $OUT/heatmaps --max-svg 3
echo
echo "== corpora/sample.en translated to Spanish ($OUT/sample.es):"
paste -d'\n' corpora/sample.en $OUT/sample.es | sed 'n;s/^/   -> /'
echo "== heatmaps: $(ls $OUT/heatmaps/*.svg | tr '\n' ' ')"
