#!/usr/bin/env bash
# Installs, with apt-get, what attnmt needs on Debian 12, by purpose, so that each script
# installs only what it uses:
#   build   the compiler and the libraries attnmt is built on, Open MPI included (tools/build.sh)
#   corpus  the public-domain Bible modules and their converter        (tools/make-bible-corpus.sh)
#   test    what the tests use beyond the build (xmllint for the SVGs, curl for the README's
#           API examples)                                               (tools/test.sh)
#   browser Debian's chromium for the page's browser test; Node.js and npm where missing (its
#           driver, playwright-core, comes from npm: tools/test.sh runs npm ci in tests/browser)
#   fuzz    clang, its libFuzzer and sanitizer runtimes, and its OpenMP  (tools/fuzz.sh)
#   bench   the yardstick of tools/bench: PyTorch with OpenBLAS, and bc (benchmark scripts only)
# libdnnl-dev only recommends ocl-icd-opencl-dev, but Debian's oneDNN is built with its OpenCL
# runtime and its CMake config stops without OpenCL's headers and library: build needs both.
# usage: tools/install-deps.sh [GROUP...]   (no group: build)
# Idempotent: packages already present are left alone. Run as root (or with sudo).
set -euo pipefail

declare -A groups=(
  [build]="build-essential cmake pkg-config libeigen3-dev libsentencepiece-dev sentencepiece
           libboost-program-options-dev libfmt-dev catch2 libdnnl-dev ocl-icd-opencl-dev
           libcpp-httplib-dev nlohmann-json3-dev libopenmpi-dev openmpi-bin"
  [corpus]="sword-text-web sword-text-sparv libsword-utils python3"
  [test]="libxml2-utils curl"
  [browser]="chromium"
  [fuzz]="clang libclang-rt-14-dev libomp-14-dev"
  # Without OpenBLAS, Debian's torch multiplies matrices with the reference BLAS (~3 GFLOP/s).
  [bench]="python3 python3-torch python3-sentencepiece libopenblas0-pthread bc"
)

[ $# -eq 0 ] && set -- build
wanted=()
for g in "$@"; do
  [ -n "${groups[$g]+x}" ] || { echo "install-deps: unknown group '$g' (build, corpus, test, browser, fuzz, bench)" >&2; exit 2; }
  read -r -a pkgs <<< "$(echo ${groups[$g]})"
  wanted+=("${pkgs[@]}")
  # playwright-core's npm; this machine's own Node.js (any source) is kept when it has one.
  if [ "$g" = browser ] && ! command -v npm >/dev/null; then wanted+=(nodejs npm); fi
done
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps ($*): all ${#wanted[@]} packages present"
  exit 0
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "install-deps ($*): installing ${missing[*]}"
# Another apt or dpkg run (unattended upgrades, a second install) holds dpkg's lock: wait for it
# (up to 10 minutes) rather than fail at once.
lock=(-o DPkg::Lock::Timeout=600)
$SUDO apt-get "${lock[@]}" update -qq
$SUDO apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
