#!/usr/bin/env bash
# Installs, with apt-get, exactly what attnmt's build, tests and tools need on Debian 12.
# Idempotent: packages already present are left alone. Run as root (or with sudo).
set -euo pipefail

build=(build-essential cmake pkg-config libeigen3-dev libsentencepiece-dev sentencepiece
       libboost-program-options-dev libfmt-dev catch2)
# The Bible corpus (tools/make-bible-corpus.sh): public-domain SWORD modules and mod2imp.
corpus=(sword-text-web sword-text-sparv libsword-utils)
# Tests that parse the SVG heatmaps, and the benchmark yardstick (../shared/reference): without
# OpenBLAS, Debian's torch multiplies matrices with the reference BLAS (~3 GFLOP/s, not ~85).
tools=(libxml2-utils python3 python3-torch python3-sentencepiece libopenblas0-pthread bc)

all=("${build[@]}" "${corpus[@]}" "${tools[@]}")
missing=()
for p in "${all[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#all[@]} packages present"
  exit 0
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
