#!/usr/bin/env bash
# Training speed and peak memory of attnmt against the PyTorch reference (../shared/reference),
# same corpus, same SentencePiece model, same batch size, same wall-clock budget, run one after
# the other in this session. Prints one line per run and the ratios.
# Usage: tools/bench-train.sh [SECONDS=180] [ARCHS="lstm transformer"] [THREADS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-180}
ARCHS=${2:-"lstm transformer"}
THREADS=${3:-2}
D=../shared/corpora/small_parallel_enja
R=../shared/reference/nmt_ref.py
W=${BENCH_DIR:-/tmp/attnmt-bench}
mkdir -p "$W"
[ -f "$D/train.en" ] || { echo "bench-train: $D not found (needs ../shared beside the clone)"; exit 1; }
[ -x build/attnmt ] || bash tools/build.sh >/dev/null
if [ ! -f "$W/spm8k.model" ]; then  # the reference's own vocabulary recipe, shared by both
  spm_train --input=$D/train.en,$D/train.ja --model_prefix=$W/spm8k --vocab_size=8000 \
    --character_coverage=1.0 --model_type=unigram --pad_id=0 --unk_id=1 --bos_id=2 --eos_id=3 \
    --minloglevel=2 >/dev/null 2>&1
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%F)"
for arch in $ARCHS; do
  preset=models/lstm-attention.ini; [ "$arch" = transformer ] && preset=models/transformer-small.ini
  ref=$(/usr/bin/python3 $R train --src $D/train.en --tgt $D/train.ja --spm $W/spm8k.model \
        --arch $arch --out $W/ref-$arch.pt --max-seconds $SECONDS_EACH --threads $THREADS \
        --log-every 1000000 | tail -1)
  ref_tps=$(echo "$ref" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["tgt_tokens_per_s"])')
  ref_mb=$(echo "$ref" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["peak_rss_mb"])')
  ours=$( { /usr/bin/time -f "maxrss_kb %M" build/attnmt train --config $preset --src $D/train.en \
        --tgt $D/train.ja --vocab $W/spm8k.model -o $W/attnmt-$arch.bin --threads $THREADS \
        --max-time $(echo "$SECONDS_EACH / 60" | bc -l) --log-every 1000000 --save-every 0 \
        --valid-every 0 ; } 2>&1 )
  our_tps=$(echo "$ours" | grep -oE '[0-9.]+ target tokens/s' | cut -d' ' -f1)
  our_mb=$(echo "$ours" | grep -oE 'maxrss_kb [0-9]+' | awk '{printf "%.1f", $2/1024}')
  echo "$arch: reference $ref_tps tok/s, peak ${ref_mb} MB | attnmt $our_tps tok/s, peak ${our_mb} MB | speed ratio $(echo "scale=2; $our_tps / $ref_tps" | bc) | memory ratio $(echo "scale=2; $our_mb / $ref_mb" | bc)"
done
