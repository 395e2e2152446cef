#!/usr/bin/env bash
# Runs the four inference benchmarks one after another and tees everything into one log.
#   bash bench/inference/run-all.sh            → /tmp/emzoo-bench/inference-<UTC time>.log
# Extra arguments go to nothing; tune each bench with its own flags (see bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${EMZOO_BENCH_DIR:-/tmp/emzoo-bench}"
mkdir -p "$out"
log="$out/inference-$(date -u +%Y%m%dT%H%M%SZ).log"
for b in backends server-overhead predict-efficiency predict-memory; do
  echo "=== $b ===" | tee -a "$log"
  node --import tsx "bench/inference/$b.ts" 2> >(grep -v '^round\|run [0-9]*:' >&2) | tee -a "$log"
done
echo "log: $log"
