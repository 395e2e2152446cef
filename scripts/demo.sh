#!/usr/bin/env bash
# The main job on the bundled models: package every bundle in weights/ as a BioImage Model Zoo
# zip (dist/), validate and reproduce each zip, then serve them over HTTP on 127.0.0.1.
# Needs no external service. DEMO_SERVE=0 stops after packaging and testing.
set -euo pipefail
cd "$(dirname "$0")/.."
cli() { node bin/bioimage-export.js "$@"; }

shopt -s nullglob
bundles=(weights/*/bundle.yaml)
if [ ${#bundles[@]} -eq 0 ]; then
  echo "no bundles in weights/: rebuild the demo weights with 'bash scripts/rebuild-demo-weights.sh'" >&2
  exit 1
fi

cli list
cli package --all --for ilastik,fiji --out dist/
for zip in dist/*.zip; do
  cli validate "$zip"
  cli test "$zip"
done

if [ "${DEMO_SERVE:-1}" != "0" ]; then
  port=${PORT:-8080}
  echo
  echo "serving on http://127.0.0.1:$port  (try: curl http://127.0.0.1:$port/models ; Ctrl-C stops)"
  exec node bin/bioimage-export.js serve --host 127.0.0.1 --port "$port" --models-dir weights
fi
