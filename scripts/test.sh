#!/usr/bin/env bash
# Everything CI runs: installs and starts what the tests need (system packages, npm packages, the
# Kafka jars, a local Kafka broker, Redis and ClickHouse), then lint, type check, unit and
# integration tests. Ends with one 'N passed, N failed' line.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
log() { printf '[test] %s (%d s)\n' "$*" $(($(date +%s) - started)) >&2; }

bash scripts/setup.sh --full
log "set-up done"

log "lint and type check"
npx eslint . --max-warnings=0
npx prettier --check . >/dev/null || { npx prettier --list-different .; exit 1; }
npx tsc -p tsconfig.json --noEmit

log "starting the local stack (Kafka KRaft, Redis, ClickHouse)"
node bin/recpipe.js stack up
log "stack up"

mkdir -p .state/test
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.state/test/results.json "$@" || status=$?

node -e '
  const r = require("./.state/test/results.json");
  // A file that fails outside any test (e.g. in beforeAll) has no failed test: count it as one.
  const brokenFiles = r.testResults.filter(
    (f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed"),
  ).length;
  const failed = r.numFailedTests + brokenFiles;
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' || true
log "done"
exit $status
