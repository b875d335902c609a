#!/usr/bin/env bash
# Load test of `recpipe run` on the local stack, then its figures:
#   bash bench/load.sh [--rate 2000] [--minutes 10] [--outage SERVICE:AT_S:FOR_S] [--docs] [--dashboard] [--keep]
#
# 1. builds recpipe and starts the local stack if it is not up (`recpipe stack up`)
# 2. node dist/bench/load.js: a real `recpipe run` consuming a fixed-rate synthetic stream
#    (event time = wall clock), /metrics and the job's RSS sampled every 5 s
# 3. draws bench/out/load-<rate>.png (and with --dashboard bench/out/dashboard-<rate>.png, the
#    Grafana dashboard's panels computed from the same samples) with bench/dashboard.py
# --docs copies the figures to docs/img/load.png (and docs/img/dashboard.png with --dashboard).
# The run's topics, Redis keys and ClickHouse database are dropped at the end unless --keep.
# The summary (sustained events/s, lag, end-to-end p99, RSS) is the last line on stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DOCS=0
DASHBOARD=0
RATE=2000
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --docs) DOCS=1; shift ;;
    --keep) ARGS+=("$1"); shift ;;
    --dashboard) DASHBOARD=1; shift ;;
    --rate) RATE="$2"; ARGS+=("$1" "$2"); shift 2 ;;
    --minutes|--outage|--probe-per-s|--sample-s|--partitions|--users|--items|--malformed) ARGS+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ ! -x bench/.venv/bin/python ] || ! bench/.venv/bin/python -c 'import matplotlib' 2>/dev/null; then
  echo "[load] creating bench/.venv with matplotlib" >&2
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet matplotlib
fi
# kcat among them (an independent Kafka client); without it see below for what is used instead
bash scripts/install-system-deps.sh || echo "[load] system packages missing (see above)" >&2
echo "[load] building" >&2
npx tsc -p tsconfig.json >&2
node bin/recpipe.js stack up >&2

mkdir -p bench/out
OUT="bench/out/load-${RATE}.json"
node dist/bench/load.js "${ARGS[@]}" --out "$OUT" | tee "bench/out/load-${RATE}.summary.json"
bench/.venv/bin/python bench/dashboard.py load "$OUT" "bench/out/load-${RATE}.png"
if [ "$DASHBOARD" = 1 ]; then
  bench/.venv/bin/python bench/dashboard.py dashboard "$OUT" "bench/out/dashboard-${RATE}.png"
fi
if [ "$DOCS" = 1 ]; then
  mkdir -p docs/img
  cp "bench/out/load-${RATE}.png" docs/img/load.png
  if [ "$DASHBOARD" = 1 ]; then cp "bench/out/dashboard-${RATE}.png" docs/img/dashboard.png; fi
  echo "[load] figures copied to docs/img/" >&2
fi
