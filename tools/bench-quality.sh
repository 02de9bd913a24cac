#!/usr/bin/env bash
# Quality after a fixed training time: trains a preset on ../shared/corpora/small_parallel_enja
# (en -> ja) for MINUTES with 2 threads, validating on dev (greedy BLEU), then translates test
# with beam 5 and scores it. Prints the dev BLEU of the kept model and the test BLEU / chrF.
# Usage: tools/bench-quality.sh ARCH [MINUTES=30] [THREADS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
ARCH=${1:?usage: tools/bench-quality.sh lstm|transformer [MINUTES] [THREADS]}
MINUTES=${2:-30}
THREADS=${3:-2}
D=../shared/corpora/small_parallel_enja
W=${BENCH_DIR:-/tmp/attnmt-bench}
mkdir -p "$W"
preset=models/lstm-attention.ini; [ "$ARCH" = transformer ] && preset=models/transformer-small.ini
M=$W/quality-$ARCH.attnmt
build/attnmt train --config $preset --src $D/train.en --tgt $D/train.ja --vocab $W/spm8k.model \
  --valid-src $D/dev.en --valid-tgt $D/dev.ja --valid-every 500 --valid-bleu-sentences 500 \
  -o $M --max-time "$MINUTES" --threads $THREADS --log $W/quality-$ARCH.log --log-every 200
build/attnmt translate -m $M -i $D/test.en -o $W/quality-$ARCH.test.hyp --beam 5 --threads $THREADS
echo "$ARCH after $MINUTES minutes: $(grep 'valid step' $W/quality-$ARCH.log | tail -1)"
echo "best dev BLEU (greedy): $(build/attnmt info $M | grep train.best_valid)"
build/attnmt score --hyp $W/quality-$ARCH.test.hyp --ref $D/test.ja
