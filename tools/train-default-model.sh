#!/usr/bin/env bash
# How the shipped default model models/en-es.attnmt was made, as one script: trains the
# transformer-small preset on corpora/bible.en-es (English -> Spanish) with `attnmt train`,
# stores it as float16 (`attnmt convert`, half the size), translates the test set with beam 5
# and scores it with `attnmt score` (BLEU and chrF). The figures go in models/README.md.
# Usage: tools/train-default-model.sh [MINUTES=80] [WORK_DIR=/tmp/attnmt-default-model]
# Takes MINUTES of training on 2 cores plus a few minutes; the result replaces
# models/en-es.attnmt only when everything before succeeded.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-80}
W=${2:-/tmp/attnmt-default-model}
A=build/attnmt
C=corpora/bible.en-es
[ -x $A ] || bash tools/build.sh
[ -f $C/train.en ] || bash tools/make-bible-corpus.sh
mkdir -p "$W"
# The preset's schedule (peak 3e-4 after 4,000 warm-up steps) suits long runs; a short run on
# 28k verse pairs (about 230 updates an epoch) needs a shorter warm-up and a higher peak.
$A train --config models/transformer-small.ini \
  --src $C/train.en --tgt $C/train.es --valid-src $C/dev.en --valid-tgt $C/dev.es \
  -o "$W/en-es.attnmt" --lr 0.0007 --warmup 800 --max-time "$MINUTES" \
  --valid-every 300 --valid-bleu-sentences 200 --log-every 50 --threads 2 --log "$W/train.log"
$A convert -m "$W/en-es.attnmt" -o "$W/en-es.f16.attnmt" --dtype float16
$A translate -m "$W/en-es.f16.attnmt" -i $C/test.en -o "$W/test.es" --beam 5 --threads 2
$A score --hyp "$W/test.es" --ref $C/test.es | tee "$W/test.score"
cp "$W/en-es.f16.attnmt" models/en-es.attnmt.tmp && mv models/en-es.attnmt.tmp models/en-es.attnmt
ls -l models/en-es.attnmt
