#!/usr/bin/env bash
# The main job on the bundled models: package every bundle in weights/ as a BioImage Model Zoo
# zip (dist/), validate and reproduce each zip, run the LSD demo bundle over a synthetic volume and
# post-process its prediction into a segmentation scored against the volume's ground truth
# (dist/demo/), then serve the bundles over HTTP on 127.0.0.1.
# Needs no external service. DEMO_SERVE=0 stops before serving.
set -euo pipefail
cd "$(dirname "$0")/.."
cli() { node bin/bioimage-export.js "$@"; }
step() { printf '\n== %s ==\n' "$*"; }

LSD_DEMO=lsd-mtlsd-demo
WORK=dist/demo # regenerated on every run (dist/ is build output)

shopt -s nullglob
bundles=(weights/*/bundle.yaml)
if [ ${#bundles[@]} -eq 0 ]; then
  echo "no bundles in weights/: rebuild the demo weights with 'bash scripts/rebuild-demo-weights.sh'" >&2
  exit 1
fi
if [ ! -f "weights/$LSD_DEMO/bundle.yaml" ]; then
  echo "weights/$LSD_DEMO is missing: restore it with 'git checkout weights/$LSD_DEMO' or rebuild the demo weights with 'bash scripts/rebuild-demo-weights.sh'" >&2
  exit 1
fi
if [ ! -x .venv/bin/emzoo ]; then
  echo "no .venv/bin/emzoo (makes the synthetic volume): run 'bash scripts/setup.sh' first" >&2
  exit 1
fi

step "bundles in weights/"
cli list
step "package every bundle for the consumers it can serve (ilastik, Fiji) → dist/"
cli package --all --out dist/  # class-output models (Synister) are Fiji-only: ilastik needs a dense map
for zip in dist/*.zip; do
  step "validate and test $zip"
  cli validate "$zip"
  cli test "$zip"
done

rm -rf "$WORK"
mkdir -p "$WORK"
step "synthetic FIB-SEM volume with ground truth → $WORK/demo.zarr"
.venv/bin/emzoo synth --out "$WORK/demo.zarr" --shape 96,96,96 --mode isotropic --seed 7
step "predict: $LSD_DEMO on $WORK/demo.zarr/raw → $WORK/pred.zarr"
cli predict --model "$LSD_DEMO" --input "$WORK/demo.zarr/raw" --output "$WORK/pred.zarr" --quiet
step "postprocess lsd: affinities → segmentation $WORK/seg.zarr, scored against labels/neurons"
# the agglomeration threshold the bundle's training record chose on its training volume
# (emzoo evaluate --tune-on); 0.5 if it has none
threshold=$(node -e '
const yaml = require("js-yaml");
const b = yaml.load(require("fs").readFileSync(process.argv[1] + "/bundle.yaml", "utf8"));
console.log(b?.training?.postprocessing?.seg_threshold ?? 0.5);
' "weights/$LSD_DEMO")
echo "agglomeration threshold $threshold (from weights/$LSD_DEMO/bundle.yaml training.postprocessing)"
# stdout: the scores as one JSON line, then what was written
scores=$(cli postprocess lsd --input "$WORK/pred.zarr" --output "$WORK/seg.zarr" \
  --gt "$WORK/demo.zarr/labels/neurons" --threshold "$threshold" --quiet)
printf '%s\n' "$scores" | node -e '
const lines = require("fs").readFileSync(0, "utf8").trim().split("\n");
const s = JSON.parse(lines[0]);
const f = (v) => v.toFixed(3);
console.log(lines.slice(1).join("\n"));
console.log(`segmentation scores against the ground truth (0 = perfect): VOI split ${f(s.voi_split)}, VOI merge ${f(s.voi_merge)} (bits), adapted Rand error ${f(s.adapted_rand_error)} (Rand precision ${f(s.rand_precision)}, recall ${f(s.rand_recall)})`);
'

if [ "${DEMO_SERVE:-1}" != "0" ]; then
  port=${PORT:-8080}
  step "serve"
  echo "serving on http://127.0.0.1:$port  (try: curl http://127.0.0.1:$port/models ; Ctrl-C stops)"
  exec node bin/bioimage-export.js serve --host 127.0.0.1 --port "$port" --models-dir weights
fi
