#!/usr/bin/env bash
# Stops three `recpipe run` instances of one group again and again while they rebalance each
# other, and fails at the first exit that is not 0 (docs/operations.md, SIGTERM). It found a
# SIGSEGV in the Kafka binding that CI hit about once in twenty runs of scale-quality.
#
#   bash bench/stop-stress.sh [ITERATIONS=50]
#
# Needs the local stack (`node bin/recpipe.js stack up`) and a build. Each iteration starts three
# instances, waits until each owns partitions, streams 3,000 Online Retail rows, then SIGTERMs
# them 0-0.4 s apart. Core dumps are enabled: a crash leaves `core` in the repository root
# (`gdb -batch -ex bt $(which node) core`). Logs: bench/out/stop-stress/ITERATION/.
set -uo pipefail
cd "$(dirname "$0")/.."
iterations=${1:-50}
ulimit -c unlimited 2>/dev/null || true
base=stopstress$(date +%s)
export RECPIPE_KAFKA_INPUT_TOPIC=$base-clickstream RECPIPE_KAFKA_ITEMS_TOPIC=$base-items \
  RECPIPE_KAFKA_DLQ_TOPIC=$base-dlq RECPIPE_KAFKA_PUSH_TOPIC=$base-push \
  RECPIPE_KAFKA_GROUP_ID=$base-group RECPIPE_KAFKA_PARTITIONS=6 RECPIPE_CLICKHOUSE_DATABASE=$base \
  RECPIPE_REDIS_PREFIX=$base: RECPIPE_LOG_LEVEL=info RECPIPE_PUSH_ENABLED=false
out=bench/out/stop-stress
mkdir -p "$out"
rows="$out/rows.csv"
gunzip -c examples/online-retail-sample.csv.gz | head -3001 >"$rows"

for ((it = 1; it <= iterations; it++)); do
  d="$out/$it"
  rm -rf "$d" && mkdir -p "$d"
  pids=()
  for i in 0 1 2; do
    RECPIPE_KAFKA_INSTANCE_ID=s$i node bin/recpipe.js run --http-port 0 >"$d/instance-$i.log" 2>&1 &
    pids+=("$!")
  done
  for ((t = 0; t < 240; t++)); do
    [ "$(cat "$d"/instance-*.log | grep -c '"partitions assigned"')" -ge 3 ] && break
    sleep 0.25
  done
  node bin/recpipe.js produce --input "$rows" --partitions 6 --rate 3000 >/dev/null 2>&1 &
  producer=$!
  sleep "$((RANDOM % 3)).$((RANDOM % 10))"
  for i in 0 1 2; do
    kill -TERM "${pids[$i]}"
    sleep "0.$((RANDOM % 5))"
  done
  worst=0
  codes=""
  for i in 0 1 2; do
    wait "${pids[$i]}"
    rc=$?
    codes="$codes $rc"
    ((rc > worst)) && worst=$rc
  done
  wait "$producer"
  echo "[stop-stress] iteration $it/$iterations: exits$codes"
  if ((worst != 0)); then
    echo "[stop-stress] FAILED at iteration $it; logs in $d" >&2
    exit 1
  fi
done
echo "[stop-stress] $iterations iterations, every instance exited 0"
