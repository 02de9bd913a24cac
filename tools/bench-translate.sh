#!/usr/bin/env bash
# Translation speed and BLEU of attnmt against the PyTorch reference on
# ../shared/corpora/small_parallel_enja/test.en (500 lines), beam 5 and beam 1, in one run.
# Uses the models tools/bench-train.sh left in BENCH_DIR (ref-ARCH.pt, attnmt-ARCH.bin), or
# the attnmt models given as ATTNMT_MODEL_lstm / ATTNMT_MODEL_transformer.
# Usage: tools/bench-translate.sh [ARCHS="lstm transformer"] [THREADS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
ARCHS=${1:-"lstm transformer"}
THREADS=${2:-2}
D=../shared/corpora/small_parallel_enja
R=../shared/reference/nmt_ref.py
W=${BENCH_DIR:-/tmp/attnmt-bench}
now() { date +%s.%N; }
pieces() { spm_encode --model=$W/spm8k.model --output_format=piece < "$1" | wc -w; }
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%F)"
for arch in $ARCHS; do
  var="ATTNMT_MODEL_$arch"; ours_model=${!var:-$W/attnmt-$arch.bin}
  for beam in 5 1; do
    ref=$(/usr/bin/python3 $R translate --ckpt $W/ref-$arch.pt --spm $W/spm8k.model \
          --input $D/test.en --output $W/ref-$arch-b$beam.hyp --beam $beam --batch 32 \
          --threads $THREADS | tail -1)
    ref_sps=$(echo "$ref" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["sent_per_s"])')
    t0=$(now)
    build/attnmt translate -m "$ours_model" -i $D/test.en -o $W/attnmt-$arch-b$beam.hyp \
      --beam $beam --threads $THREADS
    t1=$(now)
    our_sps=$(echo "500 / ($t1 - $t0)" | bc -l)
    our_tps=$(echo "$(pieces $W/attnmt-$arch-b$beam.hyp) / ($t1 - $t0)" | bc -l)
    ref_bleu=$(build/attnmt score --metric bleu --hyp $W/ref-$arch-b$beam.hyp --ref $D/test.ja | grep -oE 'BLEU[^=]*= [0-9.]+' | grep -oE '[0-9.]+$')
    our_bleu=$(build/attnmt score --metric bleu --hyp $W/attnmt-$arch-b$beam.hyp --ref $D/test.ja | grep -oE 'BLEU[^=]*= [0-9.]+' | grep -oE '[0-9.]+$')
    printf '%s beam %s: reference %.1f sent/s BLEU %s | attnmt %.1f sent/s %.0f tok/s BLEU %s | speed ratio %.2f\n' \
      "$arch" "$beam" "$ref_sps" "$ref_bleu" "$our_sps" "$our_tps" "$our_bleu" "$(echo "$our_sps / $ref_sps" | bc -l)"
  done
done
