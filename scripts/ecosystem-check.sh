#!/usr/bin/env bash
# Checks recpipe against the real ecosystem around it (issue 17), beyond the pinned local stack:
#   clickhouse  the schema, every insert format and the documented queries on a current ClickHouse
#               (chdb, ClickHouse 26.x in process, from PyPI into a venv under .state/ecosystem)
#   prometheus  a real Prometheus (Debian) scrapes `recpipe run` on the local stack during a short
#               stream; every dashboard and docs/operations.md expression must return samples
#   events      docs/events.schema.json against the validator (the unit test that CI also runs)
# Installs what it needs (idempotent), expects a build (scripts/setup.sh). Exits 0 when every check
# holds; prints one line per check and per failure. `scripts/ecosystem-check.sh NAME...` runs some.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
log() { printf '[ecosystem] %s (%d s)\n' "$*" $(($(date +%s) - started)) >&2; }
work=.state/ecosystem
mkdir -p "$work"
checks=("$@")
[[ ${#checks[@]} -eq 0 ]] && checks=(clickhouse prometheus events)
failed=()

# Debian packages the checks use (prometheus, python3-venv), only when missing.
bash scripts/install-system-deps.sh

check_clickhouse() {
  local venv=$work/venv
  if ! "$venv/bin/python" -c 'import chdb' >/dev/null 2>&1; then
    log "installing chdb into $venv"
    python3 -m venv "$venv" || return 1
    "$venv/bin/pip" install --quiet --disable-pip-version-check chdb || return 1
  fi
  rm -rf "$work/chdb-session"
  node dist/test/ecosystem/clickhouse-check.js recpipe "$venv/bin/python" "$work/chdb-session"
}

check_prometheus() {
  node bin/recpipe.js stack up || return 1
  node dist/test/ecosystem/prometheus-check.js
}

check_events() {
  npx vitest run --project unit test/unit/events-schema.test.ts
}

for c in "${checks[@]}"; do
  log "check: $c"
  if "check_$c"; then log "ok: $c"; else
    log "FAILED: $c"
    failed+=("$c")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  log "failed: ${failed[*]}"
  exit 1
fi
log "all checks hold: ${checks[*]}"
