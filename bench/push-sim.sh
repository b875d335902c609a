#!/usr/bin/env bash
# The push simulation benchmark of issue 15 (docs/push.md "Simulation"):
#   bash bench/push-sim.sh [--seeds 1-20] [--users 20000] [--days 30] [--docs] [--fresh]
#
# Builds recpipe, then runs `dist/bench/push-sim.js` once per seed, each run under the machine-wide
# lock /tmp/recpipe-heavy.lock (about two minutes per seed on the shared 2-core machine), appending
# to bench/out/push-sim.jsonl (a rerun resumes: finished seeds are skipped; --fresh starts over).
# Then prints the static-vs-learned table, and draws bench/out/push-sim.png with matplotlib from
# a venv (bench/.venv); --docs also copies it to docs/img/push-sim.png.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SEEDS=1-20
USERS=20000
DAYS=30
DOCS=0
FRESH=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) SEEDS="$2"; shift 2 ;;
    --users) USERS="$2"; shift 2 ;;
    --days) DAYS="$2"; shift 2 ;;
    --docs) DOCS=1; shift ;;
    --fresh) FRESH=1; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
log() { printf '[push-sim] %s\n' "$*" >&2; }
OUT="$ROOT/bench/out"
mkdir -p "$OUT"
[ "$FRESH" = 1 ] && rm -f "$OUT/push-sim.jsonl"
log "building recpipe"
npx tsc -p tsconfig.json >&2
IFS=',' read -ra PARTS <<<"$SEEDS"
for part in "${PARTS[@]}"; do
  from="${part%-*}"; to="${part#*-}"
  for seed in $(seq "$from" "$to"); do
    flock /tmp/recpipe-heavy.lock node dist/bench/push-sim.js --seeds "$seed" --users "$USERS" \
      --days "$DAYS" --out "$OUT/push-sim.jsonl"
  done
done
node dist/bench/push-sim.js --summary --out "$OUT/push-sim.jsonl" >"$OUT/push-sim-summary.json"
VENV="$ROOT/bench/.venv"
if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV"
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -c 'import matplotlib' 2>/dev/null ||
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    "$(grep '^matplotlib==' bench/peers/requirements.txt)" >&2
"$VENV/bin/python" bench/push_sim_plot.py "$OUT/push-sim-summary.json" "$OUT/push-sim.png"
if [ "$DOCS" = 1 ]; then
  cp "$OUT/push-sim.png" docs/img/push-sim.png
  log "docs/img/push-sim.png updated"
fi
