#!/usr/bin/env bash
# The whole recommender benchmark in one command (prequential HR@10 / NDCG@10 on UCI Online Retail):
#   bash bench/run.sh [--limit N] [--input FILE] [--skip-recpipe] [--skip-peers] [--docs|--no-docs]
#   (--skip-recpipe --skip-peers redraws the plot and the docs from the results already in bench/out)
#
# 1. creates/updates the Python venv bench/.venv with the pinned peers' packages
# 2. builds recpipe (npx tsc -p tsconfig.json)
# 3. runs recpipe's recommenders (those of default mf itemknn trending popular that the registry
#    offers) through `recpipe replay --eval prequential --json`, under /usr/bin/time -v for peak RSS
# 4. runs the Python peers (River BiasedMF / FunkMF online, implicit ALS / BPR periodic retrain)
# 5. writes each model's JSON line to bench/out/<model>.json, draws the HR@10-over-time plot and
#    prints the table; a full run (no --limit) also rewrites the section
#    "## Recommenders (prequential, UCI Online Retail)" of docs/BENCHMARKS.md and
#    docs/img/hr-over-time.png (a --limit run draws bench/out/hr-over-time.png and leaves docs
#    alone unless --docs).
# Progress goes to stderr; the table to stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

INPUT=/work/shared/data/uci-online-retail/online_retail.csv.gz
LIMIT=""
RUN_RECPIPE=1
RUN_PEERS=1
DOCS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --limit) LIMIT="$2"; shift 2 ;;
    --input) INPUT="$2"; shift 2 ;;
    --skip-recpipe) RUN_RECPIPE=0; shift ;;
    --skip-peers) RUN_PEERS=0; shift ;;
    --docs) DOCS=1; shift ;;
    --no-docs) DOCS=0; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -z "$DOCS" ] && { [ -z "$LIMIT" ] && DOCS=1 || DOCS=0; }
[ -f "$INPUT" ] || { echo "[bench] input not found: $INPUT" >&2; exit 2; }
INPUT="$(realpath "$INPUT")"

log() { printf '[bench] %s\n' "$*" >&2; }
LIMIT_ARGS=()
[ -n "$LIMIT" ] && LIMIT_ARGS=(--limit "$LIMIT")

# /usr/bin/time (Debian package `time`) reports the peak RSS of recpipe's runs
if [ ! -x /usr/bin/time ]; then
  log "installing /usr/bin/time (apt package time)"
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq time >&2 || { apt-get update -qq >&2 && apt-get install -y -qq time >&2; }
  else sudo apt-get install -y -qq time >&2; fi
fi

# 1. Python venv with the pinned peers' packages
VENV="$ROOT/bench/.venv"
PY="$VENV/bin/python"
if [ ! -x "$PY" ]; then
  log "creating $VENV"
  python3 -m venv "$VENV"
fi
log "installing bench/peers/requirements.txt into the venv"
"$PY" -m pip install -q --disable-pip-version-check -r bench/peers/requirements.txt >&2

# 2. build
log "building recpipe (npx tsc -p tsconfig.json)"
npx tsc -p tsconfig.json >&2

OUT="$ROOT/bench/out"
mkdir -p "$OUT"
rm -f "$OUT"/*.time "$OUT"/*.raw
# results of the parts that run now are replaced; --skip-recpipe --skip-peers just redraws
[ "$RUN_RECPIPE" = 1 ] && rm -f "$OUT"/recpipe-*.json
[ "$RUN_PEERS" = 1 ] && rm -f "$OUT"/river-*.json "$OUT"/implicit-*.json

# 3. recpipe's models
if [ "$RUN_RECPIPE" = 1 ]; then
  NAMES=$(node --input-type=module -e "
    const { RECOMMENDER_NAMES } = await import('$ROOT/dist/models/registry.js');
    const want = ['default', 'mf', 'itemknn', 'trending', 'popular'];
    console.log(want.filter((n) => RECOMMENDER_NAMES.includes(n)).join(' '));")
  log "recpipe models: $NAMES"
  for name in $NAMES; do
    log "recpipe replay --model $name ${LIMIT:+--limit $LIMIT}"
    raw="$OUT/recpipe-$name.raw"
    if ! /usr/bin/time -v -o "$OUT/recpipe-$name.time" \
      node bin/recpipe.js replay --input "$INPUT" --eval prequential --model "$name" "${LIMIT_ARGS[@]}" \
      --json --quiet >"$raw"; then
      log "recpipe replay --model $name FAILED, left out of the table"
      rm -f "$raw"
      continue
    fi
    # add what the replay JSON lacks for the table: a label, the kind, peak RSS, the limit
    "$PY" - "$raw" "$OUT/recpipe-$name.time" "$name" "$LIMIT" >"$OUT/recpipe-$name.json" <<'PYEOF'
import json, re, sys
raw, timef, name, limit = sys.argv[1:5]
line = [l for l in open(raw) if l.strip().startswith("{")][-1]
r = json.loads(line)
m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(timef).read())
r.setdefault("peak_rss_mb", round(int(m.group(1)) / 1024, 1) if m else None)
r["label"] = f"recpipe {name}" if r.get("model") in (None, name) else f"recpipe {name} ({r['model']})"
r["kind"] = "recpipe (TypeScript, online)"
r["limit"] = int(limit) if limit else None
print(json.dumps(r))
PYEOF
    rm -f "$raw"
    log "$(head -c 300 "$OUT/recpipe-$name.json")"
  done
fi

# 4. Python peers
if [ "$RUN_PEERS" = 1 ]; then
  run_peer() {  # run_peer FILE-NAME KIND SCRIPT ARGS...
    local file="$1" kind="$2" script="$3"
    shift 3
    log "peer $file: $script $* ${LIMIT:+--limit $LIMIT}"
    if ! (cd bench/peers && "$PY" "$script" --input "$INPUT" "${LIMIT_ARGS[@]}" "$@") >"$OUT/$file.raw"; then
      log "peer $file FAILED, left out of the table"
      rm -f "$OUT/$file.raw"
      return 0
    fi
    "$PY" -c "
import json, sys
r = json.loads([l for l in sys.stdin if l.strip().startswith('{')][-1])
r['label'] = r['model']; r['kind'] = sys.argv[1]
print(json.dumps(r))" "$kind" <"$OUT/$file.raw" >"$OUT/$file.json"
    rm -f "$OUT/$file.raw"
  }
  run_peer river-biasedmf "River (Python, online)" river_mf.py --model biased
  run_peer river-funkmf "River (Python, online)" river_mf.py --model funk
  run_peer implicit-als "implicit (Python, retrain every 20k)" implicit_periodic.py --model als
  run_peer implicit-bpr "implicit (Python, retrain every 20k)" implicit_periodic.py --model bpr
fi

# 5. plot, table, docs
CPU=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //' || true)
MEM=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
MACHINE="$(nproc) cores${CPU:+ ($CPU)}, $MEM RAM, Node $(node --version), Python $("$PY" -c 'import platform; print(platform.python_version())'), one model at a time"
if [ "$DOCS" = 1 ]; then
  "$PY" bench/plot.py --in "$OUT" --png docs/img/hr-over-time.png --doc docs/BENCHMARKS.md \
    --png-link img/hr-over-time.png --machine "$MACHINE" \
    --command "bash bench/run.sh${LIMIT:+ --limit $LIMIT}" --notes bench/peers/NOTES.md
else
  "$PY" bench/plot.py --in "$OUT" --png "$OUT/hr-over-time.png"
fi
log "done"
