#!/usr/bin/env bash
# Everything CI runs: installs and starts what the tests need (system packages, npm packages, the
# Kafka jars, a local Kafka broker, Redis and ClickHouse), then lint, type check, unit and
# integration tests, then scripts/ecosystem-check.sh. Ends with one 'N passed, N failed' line.
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
rm -f .state/test/*.json .state/test/ecosystem.rc
# Unit tests first, then integration tests: run together, the two projects compete for the two
# cores with the local stack, and a crashed worker in one would abort the other's results too.
status=0
for project in unit integration; do
  log "vitest: $project"
  npx vitest run --project "$project" --reporter=default --reporter=json \
    --outputFile.json=".state/test/$project.json" "$@" || status=1
done

# The checks against the ecosystem (scripts/ecosystem-check.sh) count as one test result.
log "ecosystem checks"
eco=0
bash scripts/ecosystem-check.sh || eco=1
echo "$eco" >.state/test/ecosystem.rc
[[ $eco -eq 0 ]] || status=1

node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  const eco = ".state/test/ecosystem.rc";
  if (fs.existsSync(eco) && fs.readFileSync(eco, "utf8").trim() === "0") passed++;
  else failed++;
  for (const project of ["unit", "integration"]) {
    const file = `./.state/test/${project}.json`;
    // No report at all means the runner itself died: count that as a failure, never as nothing.
    if (!fs.existsSync(file)) { failed++; continue; }
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    // A file that fails outside any test (e.g. in beforeAll) has no failed test: count it as one.
    const brokenFiles = r.testResults.filter(
      (f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed"),
    ).length;
    passed += r.numPassedTests;
    failed += r.numFailedTests + brokenFiles;
    skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`tests: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' || true
log "done"
exit $status
