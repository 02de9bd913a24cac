#!/usr/bin/env bash
# The README's first command: installs the dependencies (apt-get), builds attnmt (Release),
# builds the public-domain English-Spanish Bible corpus, and runs the main job: translate a
# sample English file to Spanish with the shipped model (models/en-es.attnmt) and draw the
# attention heatmaps of its first lines (tools/demo.sh). The corpus is not needed by the demo;
# it is there for the README's quickstart.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh build corpus
bash tools/build.sh
bash tools/make-bible-corpus.sh
bash tools/demo.sh
