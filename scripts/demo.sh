#!/usr/bin/env bash
# The main job on the embedded default: the whole operator graph in-process over the bundled
# Online Retail sample, with prequential evaluation, a progress bar and a summary. No services needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bin/recpipe.js replay --input examples/online-retail-sample.csv.gz --eval prequential "$@"
