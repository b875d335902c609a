#!/usr/bin/env bash
# Installs what recpipe needs and builds it. Idempotent: fast when everything is already there.
#   scripts/setup.sh           npm packages (native addons not built) + build: enough for `replay`
#   scripts/setup.sh --full    also system packages (Redis, ClickHouse, Java, Maven, -dev libs) and the
#                              Kafka client's native addon: what `stack`, `produce`, `run` and the tests need
set -euo pipefail
cd "$(dirname "$0")/.."
full=0
[[ ${1:-} == --full ]] && full=1
log() { printf '[setup] %s\n' "$*" >&2; }

kafka_client_ok() { node -e "require('@confluentinc/kafka-javascript')" >/dev/null 2>&1; }

if [[ $full -eq 1 ]]; then
  log "system packages (apt, only what is missing)"
  bash scripts/install-system-deps.sh
fi

# librdkafka is built from source against the Debian -dev libraries (no prebuilt download here).
export CKJS_LINKING=dynamic
stamp=node_modules/.recpipe-install-stamp
if [[ ! -f $stamp || package-lock.json -nt $stamp ]]; then
  # Packages only, no install scripts: every module and its types are there for the build and
  # `replay`; native addons are built below when the services are wanted. npm install, not
  # npm ci: npm 11 with omit-lockfile-registry-resolved writes lockfiles its own `npm ci` rejects.
  log "npm install (packages only)"
  npm install --no-audit --no-fund --loglevel=error --ignore-scripts
  touch "$stamp"
fi
if [[ $full -eq 1 ]] && ! kafka_client_ok; then
  log "building the Kafka client's native addon (librdkafka; about 2 minutes the first time)"
  npm rebuild @confluentinc/kafka-javascript --loglevel=error >/dev/null
  if ! kafka_client_ok; then
    log "the Kafka client did not build; see README 'Troubleshooting'"
    exit 1
  fi
fi

if [[ ! -f dist/.build-stamp ]] || [[ -n $(find pipeline operators records sinks kafka stream features push privacy stack config models bench test/ecosystem test/support -name '*.ts' -newer dist/.build-stamp -print -quit 2>/dev/null) ]] || [[ tsconfig.json -nt dist/.build-stamp ]]; then
  log "building (tsc)"
  npx tsc -p tsconfig.json
  touch dist/.build-stamp
fi
