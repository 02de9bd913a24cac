#!/usr/bin/env bash
# Remakes the seed corpora of the fuzz targets (tests/fuzz/seeds/<target>/) with attnmt itself:
# tiny model files (LSTM dot and additive, Transformer, float16) trained one step on a
# generated corpus with an identity-normalised 30-piece vocabulary (so that a seed is a few KB,
# not the 230 KB of the NFKC tables), the presets, and small texts.
# usage: tests/fuzz/make-seeds.sh [ATTNMT]   (default build/attnmt)
set -euo pipefail
cd "$(dirname "$0")/../.."
B="$(realpath "${1:-build/attnmt}")"
out=tests/fuzz/seeds
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
words=(the cat sat on mat a dog ran home quick brown fox)
for i in $(seq 60); do
  n=$((2 + i % 4)); line=""
  for j in $(seq $n); do line+="${words[$(( (i * 7 + j * 5) % 12 ))]} "; done
  echo "${line% }" >> "$tmp/train.en"
  echo "${line% }" | tr ' ' '\n' | tac | paste -sd' ' >> "$tmp/train.es"
done
spm_train --input="$tmp/train.en,$tmp/train.es" --model_prefix="$tmp/v" --vocab_size=30 \
  --normalization_rule_name=identity --pad_id=0 --unk_id=1 --bos_id=2 --eos_id=3 \
  --minloglevel=2 >/dev/null 2>&1
common=(--src "$tmp/train.en" --tgt "$tmp/train.es" --vocab "$tmp/v.model" --max-steps 1 --threads 1 -q)
"$B" train "${common[@]}" -o "$tmp/lstm.attnmt" --emb-dim 4 --enc-hidden 4 --dec-hidden 8
"$B" train "${common[@]}" -o "$tmp/additive.attnmt" --emb-dim 4 --enc-hidden 4 --dec-hidden 8 \
  --attention additive
"$B" train "${common[@]}" -o "$tmp/transformer.attnmt" --arch transformer --emb-dim 4 --heads 1 \
  --ffn-dim 8 --max-positions 16
"$B" convert -m "$tmp/transformer.attnmt" -o "$tmp/float16.attnmt" --dtype float16 2>/dev/null
rm -rf "$out"; mkdir -p "$out"/{fuzz_model_file,fuzz_corpus_reader,fuzz_config,fuzz_metrics}
# fuzz_model_file: a mode byte (bit 0 seal, bit 1 build the model), then the file.
for m in lstm additive transformer float16; do
  for mode in 2 3; do
    { printf "\\x0$mode"; cat "$tmp/$m.attnmt"; } > "$out/fuzz_model_file/$m-$mode"
  done
done
# fuzz_corpus_reader and fuzz_metrics: two texts split at a 0xFF byte.
{ head -5 "$tmp/train.en"; printf '\xff'; head -5 "$tmp/train.es"; } > "$out/fuzz_corpus_reader/plain"
{ printf 'ok\r\n\xef\xbb\xbfbom\n\n  \nbad \xc3\x28\n'; printf '\xff'; printf 'a\nb\nc\nd\ne'; } \
  > "$out/fuzz_corpus_reader/mixed"
printf 't\0h\0e\0 \0c\0a\0t\0\n\0\xff' > "$out/fuzz_corpus_reader/utf16"
printf 'The cat, the "dog" &amp; 3.14 -- ok.\nA bird\xe3\x81\xae sky!\n\xffthe cat , the dog .\nA bird sky\n' \
  > "$out/fuzz_metrics/punct"
{ head -5 "$tmp/train.en"; printf '\xff'; head -5 "$tmp/train.en"; } > "$out/fuzz_metrics/same"
# fuzz_config: the presets and a few keys of every kind.
cp models/*.ini "$out/fuzz_config/"
printf 'arch = transformer\nemb-dim = 8\nheads = 2\nlr = 0.001\nschedule = inverse-sqrt\nmax-length = 50\n' \
  > "$out/fuzz_config/keys.ini"
ls -R "$out" | head -40
