#!/usr/bin/env bash
# Runs N `recpipe run` processes as one consumer group on this machine (docs/scaling.md).
#
#   scripts/run-instances.sh N [extra `recpipe run` args, e.g. --topic T --group G]
#
# Instance i gets RECPIPE_KAFKA_INSTANCE_ID=${RECPIPE_INSTANCES_ID_PREFIX}i (a distinct Kafka
# transactional.id and snapshot) and HTTP port RECPIPE_INSTANCES_BASE_PORT+i (default 9470+i;
# a base of 0 gives every instance an ephemeral port, logged as "http" in its log).
# Logs and pid files go to RECPIPE_INSTANCES_DIR (default .state/instances/). SIGTERM or SIGINT
# stops every instance cleanly (each drains and commits) and exits with the worst status.
set -uo pipefail
cd "$(dirname "$0")/.."

n=${1:-}
if ! [[ "$n" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 N [recpipe run args...]" >&2
  exit 64
fi
shift

dir=${RECPIPE_INSTANCES_DIR:-${RECPIPE_STATE_DIR:-.state}/instances}
base=${RECPIPE_INSTANCES_BASE_PORT:-9470}
# Two machines running this script against one cluster must not share instance ids: an id is a
# transactional.id, and a second process with the same one fences the first.
prefix=${RECPIPE_INSTANCES_ID_PREFIX:-}
mkdir -p "$dir"
# Each instance in its own process group: a Ctrl-C in the terminal then reaches only this script,
# which forwards ONE SIGTERM; a second signal would make the jobs exit without draining.
set -m

pids=()
for ((i = 0; i < n; i++)); do
  port=$((base == 0 ? 0 : base + i))
  # RECPIPE_INSTANCES_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=DIR" (not allowed in NODE_OPTIONS)
  # shellcheck disable=SC2086
  RECPIPE_KAFKA_INSTANCE_ID="${prefix}${i}" \
    node ${RECPIPE_INSTANCES_NODE_ARGS:-} bin/recpipe.js run --http-port "$port" "$@" >"$dir/instance-$i.log" 2>&1 &
  pids+=("$!")
  echo "$!" >"$dir/instance-$i.pid"
  echo "instance ${prefix}${i}: pid $! http port $port log $dir/instance-$i.log" >&2
done

stop() {
  echo "stopping ${#pids[@]} instance(s)" >&2
  kill -TERM "${pids[@]}" 2>/dev/null
}
trap stop TERM INT

# `wait PID` returns early when a trapped signal arrives; wait again until each one has exited.
worst=0
for i in "${!pids[@]}"; do
  pid=${pids[$i]}
  while true; do
    wait "$pid"
    rc=$?
    if kill -0 "$pid" 2>/dev/null; then continue; fi
    break
  done
  # 143 = killed by SIGTERM before the job installed its handler; anything else is the job's own.
  echo "instance ${prefix}${i} exited with $rc" >&2
  rm -f "$dir/instance-$i.pid"
  ((rc > worst)) && worst=$rc
done
exit "$worst"
