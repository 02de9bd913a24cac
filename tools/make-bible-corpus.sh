#!/usr/bin/env bash
# Builds the English-Spanish Bible corpus corpora/bible.en-es/{train,dev,test}.{en,es}
# (+ keys.{train,dev,test}) from the public-domain SWORD modules engWEB2015eb
# (World English Bible) and spaRV1909eb (Reina-Valera 1909) that Debian ships
# in sword-text-web / sword-text-sparv, using mod2imp (libsword-utils).
# The text processing lives in tools/bible_extract.py; this script checks the
# prerequisites, runs mod2imp, and moves the results into place.
#
# Idempotent: does nothing when every output exists and is newer than this
# script, the extractor and both module .conf files (pass --force to rebuild).
# Outputs are built in a temporary directory next to them and renamed into
# place, so an interrupted run leaves the previous corpus (or none), never a
# half-written file. Takes a few seconds.
#
# Usage: tools/make-bible-corpus.sh [--force] [OUTDIR]   (default corpora/bible.en-es)
set -euo pipefail

die() { echo "make-bible-corpus: error: $*" >&2; exit 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
force=0
if [ "${1:-}" = "--force" ]; then force=1; shift; fi
case "${1:-}" in -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0;; esac
[ $# -le 1 ] || die "usage: tools/make-bible-corpus.sh [--force] [OUTDIR]"
out=${1:-$root/corpora/bible.en-es}
extractor=$root/tools/bible_extract.py
python=/usr/bin/python3
en_mod=engWEB2015eb
es_mod=spaRV1909eb
outputs=(train.en train.es dev.en dev.es test.en test.es keys.train keys.dev keys.test)

# The module .conf files, searched where SWORD looks for them.
find_conf() {
  local d f
  for d in ${SWORD_PATH:+"$SWORD_PATH"} "${HOME:-/nonexistent}/.sword" /usr/share/sword /usr/local/share/sword; do
    for f in "$d"/mods.d/*.conf; do
      [ -f "$f" ] && grep -qx "\[$1\]" "$f" && { echo "$f"; return 0; }
    done
  done
  return 1
}

command -v mod2imp >/dev/null 2>&1 ||
  die "mod2imp not found; install Debian package libsword-utils (tools/install-deps.sh does)"
[ -x "$python" ] || die "$python not found; install Debian package python3"
[ -f "$extractor" ] || die "$extractor is missing"
en_conf=$(find_conf "$en_mod") ||
  die "SWORD module $en_mod not found; install Debian package sword-text-web (tools/install-deps.sh does)"
es_conf=$(find_conf "$es_mod") ||
  die "SWORD module $es_mod not found; install Debian package sword-text-sparv (tools/install-deps.sh does)"

if [ $force -eq 0 ]; then
  fresh=1
  for f in "${outputs[@]}"; do
    for dep in "$root/tools/make-bible-corpus.sh" "$extractor" "$en_conf" "$es_conf"; do
      [ "$out/$f" -nt "$dep" ] || { fresh=0; break 2; }
    done
  done
  if [ $fresh -eq 1 ]; then
    echo "make-bible-corpus: $out is up to date ($(wc -l <"$out/train.en") train pairs); --force rebuilds"
    exit 0
  fi
fi

mkdir -p "$out"
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

for pair in "en:$en_mod" "es:$es_mod"; do
  lang=${pair%%:*} mod=${pair#*:}
  mod2imp "$mod" >"$tmp/$lang.imp" 2>"$tmp/$lang.err" ||
    die "mod2imp $mod failed: $(tr '\n' ' ' <"$tmp/$lang.err" | cut -c1-200)"
  grep -q '^\$\$\$Genesis 1:1$' "$tmp/$lang.imp" ||
    die "mod2imp $mod printed no Genesis 1:1; is the module installed completely?"
done

mkdir "$tmp/out"
"$python" "$extractor" "$tmp/en.imp" "$tmp/es.imp" "$tmp/out" ||
  die "tools/bible_extract.py failed (see above); $out left unchanged"

for split in train dev test; do
  n_en=$(wc -l <"$tmp/out/$split.en") n_es=$(wc -l <"$tmp/out/$split.es")
  [ "$n_en" -eq "$n_es" ] && [ "$n_en" -gt 0 ] ||
    die "$split: $n_en English vs $n_es Spanish lines; $out left unchanged"
done

for f in "${outputs[@]}"; do mv -f "$tmp/out/$f" "$out/$f"; done

ver() { sed -n 's/^Version=//p' "$1" | head -1; }
echo "make-bible-corpus: wrote $out from $en_mod $(ver "$en_conf") and $es_mod $(ver "$es_conf")"
if [ -f "$out/SHA256SUMS" ]; then
  if (cd "$out" && sha256sum --quiet -c SHA256SUMS >/dev/null 2>&1); then
    echo "make-bible-corpus: outputs match the reference checksums in $out/SHA256SUMS"
  else
    echo "make-bible-corpus: WARNING: outputs differ from $out/SHA256SUMS (another module version?);" \
         "see $out/README.md" >&2
  fi
fi
