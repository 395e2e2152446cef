#!/usr/bin/env bash
# Runs every test: the TypeScript suites (vitest) and the Python suites (pytest), then prints
# one closing line "N passed, N failed" covering both.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache
rc=0

echo "== TypeScript (vitest) =="
npx vitest run --reporter=default --reporter=json --outputFile=.cache/vitest.json || rc=1

echo "== Python (pytest) =="
.venv/bin/python -m pytest models/tests -q --junitxml=.cache/pytest.xml || {
  code=$?; [ "$code" -eq 5 ] || rc=1
}

node scripts/summarize-tests.mjs .cache/vitest.json .cache/pytest.xml || rc=1
exit $rc
