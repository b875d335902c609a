#!/usr/bin/env bash
# Installs the system packages recpipe needs on Debian/Ubuntu, and only those that are missing:
# the local stack's services (Redis, ClickHouse, a JRE + Maven for Kafka) and the -dev libraries
# the Kafka client's native addon builds against. Safe to run repeatedly; silent when nothing is missing.
set -euo pipefail

# package name -> command that proves it is installed ("" = check with dpkg only)
declare -A wanted=(
  [redis-server]=redis-server
  [clickhouse-server]=clickhouse-server
  [clickhouse-client]=clickhouse-client
  [default-jre-headless]=java
  [maven]=mvn
  [zlib1g-dev]=
  [libssl-dev]=
  [libzstd-dev]=
  [liblz4-dev]=
  [libsasl2-dev]=
  [libcurl4-openssl-dev]=
  # scripts/ecosystem-check.sh: a real Prometheus, and a venv for chdb (a current ClickHouse)
  [prometheus]=prometheus
  [python3]=python3
  # bench/load.sh's freshness probe and bench/scale.sh's staged backlog: an independent Kafka client
  [kcat]=kcat
)

installed() {
  local pkg=$1 cmd=$2
  # A command on PATH counts even when it came from elsewhere (e.g. a JDK not installed by apt).
  if [[ -n $cmd ]] && { command -v "$cmd" >/dev/null 2>&1 || [[ -x /usr/sbin/$cmd ]]; }; then return 0; fi
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for pkg in "${!wanted[@]}"; do
  installed "$pkg" "${wanted[$pkg]}" || missing+=("$pkg")
done
# Debian splits venv (with ensurepip) out of python3; another Python on PATH may already have it.
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || installed python3-venv "" || missing+=(python3-venv)
[[ ${#missing[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: missing ${missing[*]}, and this is not a Debian/Ubuntu system: install them with your package manager" >&2
  exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-system-deps: missing packages: ${missing[*]}" >&2
  echo "  run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "install-system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-system-deps: done" >&2
