#!/usr/bin/env bash
# The README's first command: installs the dependencies (apt-get), builds attnmt (Release),
# builds the public-domain English-Spanish Bible corpus, and runs the main job: translate a
# sample English file to Spanish and draw the attention heatmaps of its first lines.
# Until a pre-trained default model ships in models/, the main job first trains a small one
# for a few minutes (DEMO_MINUTES, default 4) on the Bible corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
bash tools/build.sh
bash tools/make-bible-corpus.sh
bash tools/demo.sh
