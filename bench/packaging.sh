#!/usr/bin/env bash
# Packaging benchmark: bioimage-export package vs bioimageio package on a ≥ 100 MB bundle.
#   bash bench/packaging.sh [--preset NAME] [--rounds N]     (see bench/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx bench/packaging.ts "$@"
