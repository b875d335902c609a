#!/usr/bin/env bash
# Horizontal scale benchmark: how fast 1 and 2 (or more) `recpipe run` instances of one consumer
# group drain the same backlog on the real local stack (docs/BENCHMARKS.md, "Horizontal scale").
#
#   bash bench/scale.sh [--input FILE] [--instances "1 2"] [--partitions 6] [--limit N] [--no-build] [--logs DIR] [--live]
#
# For each instance count N, on a fresh 6-partition topic of its own:
# 1. starts scripts/run-instances.sh N (own group, database, Redis prefix) and waits until every
#    instance owns input partitions (the start-up and group join are timed apart);
# 2. puts FILE (default: the bundled Online Retail sample) into the input topic and times from
#    then until the group's committed offsets reach the end of the topic; then SIGTERMs the
#    instances. A backlog: FILE is produced into staging topics before the instances start, and
#    copied partition by partition into the input (and items) topic by kcat once the group has
#    formed (about a second for 150,000 events). `recpipe produce` straight into the input topic
#    after the join (--live, and the fallback without kcat) took 12-37 s on this shared machine
#    while six instances competed with it for the cores: the instances then kept up with the
#    producer in small batches instead of draining a backlog;
# 3. prints one JSON line per N (messages, seconds, events/s, CPU seconds and serving hold per
#    instance, batches committed, prequential HR@10 summed over the instances' online evaluators) and writes them to
#    bench/out/scale-N.json. "cpu_after_join" counts each process's CPU seconds (utime + stime
#    from /proc) from the moment the group had formed until the drain ended: start-up excluded;
#    "main_thread_after_join" the same for the JS thread alone. A stderr line splits the CPU
#    after the join by thread, all instances together: main(js), "node" (V8's helper threads:
#    parallel and concurrent GC, optimising compilers; libuv's pool), rdk:* (librdkafka).
# RECPIPE_SCALE_ITEM_STATE=replica|follower in the environment picks how item state is shared.
# Needs the local stack (`recpipe stack up`). Progress goes to stderr. At the end the run's topics,
# Redis keys and ClickHouse databases are dropped (bench/drop-run.ts).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

INPUT=examples/online-retail-sample.csv.gz
COUNTS="1 2"
PARTITIONS=6
LIMIT=""
LOGS=""
BUILD=1
LIVE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --input) INPUT="$2"; shift 2 ;;
    --instances) COUNTS="$2"; shift 2 ;;
    --partitions) PARTITIONS="$2"; shift 2 ;;
    --limit) LIMIT="$2"; shift 2 ;;
    --logs) LOGS="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --live) LIVE=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
log() { printf '[scale] %s\n' "$*" >&2; }

[ "$BUILD" = 1 ] && { log "building"; npx tsc -p tsconfig.json >&2 || true; }
node bin/recpipe.js stack status >/dev/null

RUN="scalebench$(date +%s)"
export RECPIPE_KAFKA_ITEMS_TOPIC="$RUN-items"
export RECPIPE_KAFKA_DLQ_TOPIC="$RUN-dlq" RECPIPE_KAFKA_PUSH_TOPIC="$RUN-push"
export RECPIPE_KAFKA_PARTITIONS="$PARTITIONS" RECPIPE_LOG_LEVEL=info

# Prints "messages committed_total" for the group, from the broker (no recpipe state involved).
progress() {
  node --input-type=module -e '
    import { loadConfig } from "./dist/config/load.js";
    import { committedOffsets, endOffsets } from "./dist/kafka/admin.js";
    const cfg = loadConfig();
    const ends = await endOffsets(cfg, cfg.kafka.inputTopic);
    const done = await committedOffsets(cfg, cfg.kafka.groupId, cfg.kafka.inputTopic);
    let total = 0, committed = 0;
    for (const e of ends) {
      total += e.high - e.low;
      const c = done.find((x) => x.partition === e.partition)?.offset ?? -1;
      committed += Math.max(0, Math.min(c, e.high) - e.low);
    }
    console.log(`${total} ${committed}`);
  ' 2>/dev/null
}

metric() { # sum of a Prometheus sample over instance i's /metrics
  local port
  port=$(grep -o '"http":"[^"]*"' "$1" | head -1 | sed 's/.*://; s/"//')
  curl -s "http://127.0.0.1:$port/metrics" | awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.2f", s }'
}

machine_ticks() { # "busy total" jiffies of the whole machine, from /proc/stat
  awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6 }' /proc/stat
}

thread_ticks() { # "tid name ticks" per thread of a pid (utime + stime; spaces in names become _)
  local t
  for t in /proc/"$1"/task/*; do
    awk -v tid="${t##*/}" -v pid="$1" '{ n = $0; sub(/^[^(]*\(/, "", n); sub(/\)[^)]*$/, "", n); gsub(/ /, "_", n); if (tid == pid) n = "main(js)";
      r = $0; sub(/^.*\) /, "", r); split(r, f, " "); print tid, n, f[12] + f[13] }' "$t/stat" 2>/dev/null
  done
}

thread_split() { # CPU seconds per thread name between two thread_ticks files (threads in both)
  awk -v hz="$(getconf CLK_TCK)" 'NR == FNR { a[$1] = $3; next } ($1 in a) { d[$2] += $3 - a[$1] }
    END { for (n in d) printf "%s %.2f\n", n, d[n] / hz }' "$1" "$2"
}

cpu_seconds() { # utime + stime of a pid, in seconds
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

BROKERS=$(node --input-type=module -e 'import { loadConfig } from "./dist/config/load.js"; console.log(loadConfig().kafka.brokers)')
# kcat among them (an independent Kafka client); without it see below for what is used instead
bash scripts/install-system-deps.sh || echo "[scale] system packages missing (see above)" >&2
if [ "$LIVE" = 0 ] && ! command -v kcat >/dev/null; then
  log "kcat not found (apt-get install kcat): producing after the join instead of a staged backlog"
  LIVE=1
fi

# Copies every partition of topic $1 into the same partition of topic $2 (keys and values).
copy_topic() {
  local parts
  parts=$(kcat -b "$BROKERS" -L -t "$1" 2>/dev/null | grep -c 'partition [0-9]*,' || true)
  for ((p = 0; p < parts; p++)); do
    kcat -b "$BROKERS" -C -t "$1" -p "$p" -o beginning -e -q -K $'\t' -f '%k\t%s\n' |
      kcat -b "$BROKERS" -P -t "$2" -p "$p" -K $'\t' &
  done
  wait
}

mkdir -p bench/out
script=""
# Whatever happens, the instances this run started are stopped (SIGTERM: they drain and exit).
trap '[ -n "$script" ] && kill -TERM "$script" 2>/dev/null; wait' EXIT
for n in $COUNTS; do
  export RECPIPE_KAFKA_INPUT_TOPIC="$RUN-g$n-clickstream" RECPIPE_KAFKA_GROUP_ID="$RUN-g$n"
  export RECPIPE_CLICKHOUSE_DATABASE="${RUN}_g$n" RECPIPE_REDIS_PREFIX="$RUN:g$n:"
  dir=$(mktemp -d)
  if [ "$LIVE" = 0 ]; then
    log "staging $INPUT in $RUN-g$n-staging"
    RECPIPE_KAFKA_INPUT_TOPIC="$RUN-g$n-staging" RECPIPE_KAFKA_ITEMS_TOPIC="$RUN-g$n-staging-items" \
      node bin/recpipe.js produce --input "$INPUT" --partitions "$PARTITIONS" ${LIMIT:+--limit "$LIMIT"} \
      --json 2>/dev/null | tail -1 >&2
  fi
  log "$n instance(s): group $RECPIPE_KAFKA_GROUP_ID"
  launched=$(date +%s.%N)
  RECPIPE_INSTANCES_DIR="$dir" RECPIPE_INSTANCES_BASE_PORT=0 RECPIPE_INSTANCES_ID_PREFIX="g$n-" \
    bash scripts/run-instances.sh "$n" 2>"$dir/script.err" &
  script=$!
  # Joined: every instance's latest assignment line names partitions (range gives each one some
  # when N <= partitions), and no rebalance for a second.
  while :; do
    owners=0
    for ((i = 0; i < n; i++)); do
      last=$(grep -E '"msg":"partitions (assigned|revoked)"' "$dir/instance-$i.log" 2>/dev/null | tail -1 || true)
      [[ "$last" == *'"partitions assigned"'* && "$last" != *'"partitions":[]'* ]] && owners=$((owners + 1))
    done
    [ "$owners" = "$n" ] && break
    sleep 0.2
  done
  sleep 1
  joined=$(date +%s.%N)
  cpu0=()
  for ((i = 0; i < n; i++)); do
    cpu0+=("$(cpu_seconds "$(cat "$dir/instance-$i.pid")")")
    thread_ticks "$(cat "$dir/instance-$i.pid")" >"$dir/threads0-$i"
  done
  start=$(date +%s.%N)
  read -r busy0 total0 < <(machine_ticks)
  if [ "$LIVE" = 0 ]; then
    log "copying the staged backlog into $RECPIPE_KAFKA_INPUT_TOPIC"
    (
      copy_topic "$RUN-g$n-staging-items" "$RECPIPE_KAFKA_ITEMS_TOPIC"
      copy_topic "$RUN-g$n-staging" "$RECPIPE_KAFKA_INPUT_TOPIC"
      log "backlog in place after $(echo "$(date +%s.%N) - $start" | bc -l | cut -c1-5) s"
    ) &
  else
    log "producing $INPUT into $RECPIPE_KAFKA_INPUT_TOPIC ($PARTITIONS partitions)"
    node bin/recpipe.js produce --input "$INPUT" --partitions "$PARTITIONS" ${LIMIT:+--limit "$LIMIT"} \
      --json 2>/dev/null | tail -1 >&2 &
  fi
  producer=$!
  while :; do
    now=$(date +%s.%N)
    read -r total committed < <(progress)
    if [ "${total:-0}" -gt 0 ] && [ "$committed" -ge "$total" ] && ! kill -0 "$producer" 2>/dev/null; then
      break
    fi
    if (($(echo "$now - $start > 900" | bc))); then log "timed out"; break; fi
    sleep 0.5
  done
  end=$(date +%s.%N)
  read -r busy1 total1 < <(machine_ticks)
  cpus=()
  after=()
  mains=()
  holds=()
  batches=()
  hits=0
  evaluated=0
  for ((i = 0; i < n; i++)); do
    hits=$(echo "$hits + $(metric "$dir/instance-$i.log" recpipe_model_hits_total)" | bc -l)
    evaluated=$(echo "$evaluated + $(metric "$dir/instance-$i.log" recpipe_model_evaluated_total)" | bc -l)
    c=$(cpu_seconds "$(cat "$dir/instance-$i.pid")")
    cpus+=("$c")
    after+=("$(echo "$c - ${cpu0[$i]}" | bc -l)")
    thread_ticks "$(cat "$dir/instance-$i.pid")" >"$dir/threads1-$i"
    thread_split "$dir/threads0-$i" "$dir/threads1-$i" >"$dir/split-$i"
    mains+=("$(awk '$1 == "main(js)" { m = $2 } END { printf "%.2f", m }' "$dir/split-$i")")
    holds+=("$(metric "$dir/instance-$i.log" recpipe_serving_hold_seconds_sum)")
    batches+=("$(metric "$dir/instance-$i.log" recpipe_batches_committed_total)")
  done
  kill -TERM "$script"
  wait "$script" || true
  script=""
  wall=$(echo "$end - $start" | bc -l)
  startup=$(echo "$joined - $launched" | bc -l)
  json=$(printf '{"instances":%d,"messages":%d,"seconds":%.2f,"events_per_s":%.0f,"startup_and_join_seconds":%.2f,"cpu_seconds":[%s],"cpu_after_join":[%s],"main_thread_after_join":[%s],"item_state":"%s","hold_seconds":[%s],"batches":[%s],"hr_at_10":%.4f,"evaluated":%.0f,"machine_cpu_busy":%.2f,"load_average":"%s"}' \
    "$n" "$total" "$wall" "$(echo "$total / $wall" | bc -l)" "$startup" \
    "$(IFS=,; echo "${cpus[*]}")" "$(IFS=,; echo "${after[*]}")" "$(IFS=,; echo "${mains[*]}")" "${RECPIPE_SCALE_ITEM_STATE:-follower}" \
    "$(IFS=,; echo "${holds[*]}")" "$(IFS=,; echo "${batches[*]}")" \
    "$(echo "if ($evaluated > 0) $hits / $evaluated else 0" | bc -l)" "$evaluated" \
    "$(echo "($busy1 - $busy0) / ($total1 - $total0)" | bc -l)" "$(cut -d' ' -f1-3 /proc/loadavg)")
  echo "$json" | tee "bench/out/scale-$n.json"
  # Where the CPU after the join went, by thread name, all instances together (see the top).
  log "CPU s after the join by thread: $(cat "$dir"/split-* | awk '{ d[$1] += $2 } END { for (n in d) printf "%s %.2f\n", n, d[n] }' | sort -k2 -n -r | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 }')"
  # --logs keeps each instance's log (e.g. with RECPIPE_INSTANCES_NODE_ARGS=--trace-gc)
  [ -n "$LOGS" ] && mkdir -p "$LOGS/g$n" && cp "$dir"/instance-*.log "$LOGS/g$n/"
  rm -rf "$dir"
done
# Its topics, Redis keys and ClickHouse databases would otherwise stay (served lists live for days).
node dist/bench/drop-run.js "$RUN" || true
