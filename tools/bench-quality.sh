#!/usr/bin/env bash
# Quality after a fixed training time: trains a preset on ../shared/corpora/small_parallel_enja
# (en -> ja; with --bible on corpora/bible.en-es, en -> es) for MINUTES with THREADS threads,
# validating on dev (greedy BLEU), then translates dev (and, unless --dev-only, test) with beam 5
# and scores it. When the saved weights are a moving average (ema, in the preset or the extra
# options) it also scores the last raw weights (the checkpoint): one run measures the average's
# gain. Tune on dev (--dev-only); report test only for what is shipped.
#
# Usage: tools/bench-quality.sh [--dev-only] [--bible] [--tag NAME] ARCH [MINUTES=30] [THREADS=2] [-- TRAIN OPTIONS...]
#   e.g. tools/bench-quality.sh --dev-only --tag lr2e-3 transformer 30 2 -- --lr 0.002
# Files: $BENCH_DIR (default /tmp/attnmt-bench)/quality[-bible]-ARCH[-NAME].{attnmt,log,log.tsv,*.hyp};
# the vocabulary is $BENCH_DIR/spm8k.model (tools/bench makes it; made here when absent), with
# --bible $BENCH_DIR/spm8k-bible.model.
set -euo pipefail
cd "$(dirname "$0")/.."
DEV_ONLY=0 TAG="" CORPUS=""
while [ $# -gt 0 ]; do
  case $1 in
    --dev-only) DEV_ONLY=1; shift ;;
    --bible) CORPUS=-bible; shift ;;
    --tag) TAG=-${2:?--tag needs a name}; shift 2 ;;
    *) break ;;
  esac
done
ARCH=${1:?usage: tools/bench-quality.sh [--dev-only] [--tag NAME] lstm|transformer [MINUTES] [THREADS] [-- OPTIONS]}
shift
MINUTES=30 THREADS=2
if [ $# -gt 0 ] && [ "$1" != -- ]; then MINUTES=$1; shift; fi
if [ $# -gt 0 ] && [ "$1" != -- ]; then THREADS=$1; shift; fi
[ "${1:-}" = -- ] && shift
D=../shared/corpora/small_parallel_enja T=ja
if [ -n "$CORPUS" ]; then
  D=corpora/bible.en-es T=es
  [ -f $D/train.en ] || bash tools/make-bible-corpus.sh
fi
W=${BENCH_DIR:-/tmp/attnmt-bench}
mkdir -p "$W"
preset=models/lstm-attention.ini; [ "$ARCH" = transformer ] && preset=models/transformer-small.ini
V=$W/spm8k$CORPUS
if [ ! -f "$V.model" ]; then
  build/attnmt vocab --src $D/train.en --tgt $D/train.$T --size 8000 -o "$V" --threads "$THREADS"
fi
N=$W/quality$CORPUS-$ARCH$TAG
M=$N.attnmt
rm -f "$N.log" "$N.log.tsv"
build/attnmt train --config $preset --src $D/train.en --tgt $D/train.$T --vocab $V.model \
  --valid-src $D/dev.en --valid-tgt $D/dev.$T --valid-every 500 --valid-bleu-sentences 500 \
  -o "$M" --max-time "$MINUTES" --threads "$THREADS" --log "$N.log" --log-every 50 "$@"
score() {  # MODEL SPLIT: beam-5 BLEU / chrF of MODEL on SPLIT
  build/attnmt translate -m "$1" -i $D/$2.en -o "$N.$2.$(basename "$1").hyp" --beam 5 --threads "$THREADS"
  build/attnmt score --hyp "$N.$2.$(basename "$1").hyp" --ref $D/$2.$T | tr '\n' ' '
}
echo "$ARCH$TAG after $MINUTES minutes ($*): $(grep -c '^' "$N.log.tsv") curve rows; $(grep 'done after\|interrupted' "$N.log" | tail -1)"
echo "best dev BLEU (greedy): $(build/attnmt info "$M" | grep train.best_valid)"
echo "dev, beam 5, saved model: $(score "$M" dev)"
if build/attnmt info "$M" | grep -q '^train.ema'; then echo "dev, beam 5, last raw weights (checkpoint): $(score "$M.ckpt" dev)"; fi
if [ "$DEV_ONLY" = 0 ]; then echo "test, beam 5, saved model: $(score "$M" test)"; fi
