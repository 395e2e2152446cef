#!/usr/bin/env bash
# Rebuild the four demo bundles (weights/<id>/) from scratch with fixed seeds:
# synthesize training and held-out volumes -> `emzoo train` each small preset -> `emzoo export
# --checkpoint` -> `emzoo evaluate --write` (held-out metrics into bundle.yaml's training record).
#
#   bash scripts/rebuild-demo-weights.sh            # the real thing (~8.5 h on 2 free cores)
#   SMOKE=1 bash scripts/rebuild-demo-weights.sh    # a few iterations into $WORK/weights (minutes)
#
# Environment: WORK (scratch folder, default /tmp/emzoo-demo-weights[-smoke]), OUT (bundle folder,
# default weights/, or $WORK/weights with SMOKE=1), ITERS_LSD / ITERS_SYNFUL / ITERS_SYNISTER /
# ITERS_MICRON (training iterations), ITERS_SYNISTER_FT (Synister's second stage: iterations from
# the first stage's weights with a fresh optimiser, 0 skips it), ITERS_SYNISTER_FT2 (its third
# stage: from the second stage's weights, on N_MORE more anisotropic volumes as well),
# ITERS_SYNISTER_FT3 (its fourth: from the third's weights, on N_MORE2 more again), ITERS_SYNISTER_FT4
# (its fifth: from the fourth's, on N_MORE3 more again), LR_LSD / LR_SYNFUL / LR_SYNISTER /
# LR_MICRON (learning rates), NICE (nice level of the heavy steps, default 0). Post-processing thresholds are chosen
# on the training volume (`emzoo evaluate --tune-on`), never on the held-out one.
# Two lanes run side by side, one thread each: Synful then Synister, Micron then LSD.
# See docs/demo-weights.md for timings and the metrics reached.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
EMZOO="$ROOT/.venv/bin/emzoo"
SMOKE=${SMOKE:-0}
if [ "$SMOKE" = 1 ]; then WORK=${WORK:-/tmp/emzoo-demo-weights-smoke}; else WORK=${WORK:-/tmp/emzoo-demo-weights}; fi
NICE=${NICE:-0}
if [ "$SMOKE" = 1 ]; then
  OUT=${OUT:-$WORK/weights}
  : "${ITERS_LSD:=4}" "${ITERS_SYNFUL:=4}" "${ITERS_SYNISTER:=4}" "${ITERS_MICRON:=4}"
  : "${ITERS_SYNISTER_FT:=4}" "${ITERS_SYNISTER_FT2:=4}" "${ITERS_SYNISTER_FT3:=4}" "${ITERS_SYNISTER_FT4:=4}"
  ISO_TRAIN=96,96,96 ISO_HELD=64,64,64 SYN_HELD=64,64,64 ANISO_TRAIN=32,256,256
  ANISO_HELD=32,192,192 ANISO_EXTRA=16,192,192 N_EXTRA=${N_EXTRA:-2} N_MORE=${N_MORE:-2}
  N_MORE2=${N_MORE2:-2} N_MORE3=${N_MORE3:-2}
else
  OUT=${OUT:-weights}
  : "${ITERS_LSD:=5000}" "${ITERS_SYNFUL:=12000}" "${ITERS_SYNISTER:=7500}" "${ITERS_MICRON:=11000}"
  # the committed synister-demo: 7500 from scratch, then 5000 more from those weights (seed 1,
  # two threads, fresh Adam), then ITERS_SYNISTER_FT2 more on 25 volumes (seed 2), then
  # ITERS_SYNISTER_FT3 more on 41 (seed 3), then ITERS_SYNISTER_FT4 more on 57 (seed 4), as it was
  # made (docs/demo-weights.md)
  : "${ITERS_SYNISTER_FT:=5000}" "${ITERS_SYNISTER_FT2:=9000}" "${ITERS_SYNISTER_FT3:=12000}"
  : "${ITERS_SYNISTER_FT4:=6000}"
  # Synful gets a larger held-out volume than LSD: 128^3 holds only ~17 partner pairs
  ISO_TRAIN=192,192,192 ISO_HELD=128,128,128 SYN_HELD=160,160,160 ANISO_TRAIN=64,512,512
  ANISO_HELD=48,384,384
  # Synister's class belongs to a neuron: one volume holds ~120 neurons with a synapse, too few
  # to learn transmitters rather than neurons; each extra volume adds ~60 new ones. N_MORE more
  # (Synister's third stage only: added after the first two stages were trained)
  ANISO_EXTRA=32,384,384 N_EXTRA=${N_EXTRA:-12} N_MORE=${N_MORE:-12} N_MORE2=${N_MORE2:-16}
  N_MORE3=${N_MORE3:-16}
fi
# learning rates: 10x the originals' for the U-Nets (5e-5); the demo nets are small and trained
# for thousands, not hundreds of thousands, of iterations. Synister keeps the originals' 1e-4: at
# 1e-3 its fully connected layer died (every ReLU negative) within 500 iterations
: "${LR_LSD:=5e-4}" "${LR_SYNFUL:=5e-4}" "${LR_SYNISTER:=1e-4}" "${LR_MICRON:=5e-4}"
# fixed seeds: training volumes 1 and 2 (+ 200, 201, ... for the extra and then the more
# anisotropic ones),
# held-out volumes 101 and 102, weights/data stream 0
SEED_ISO=1 SEED_ANISO=2 SEED_EXTRA=200 HELD_ISO=101 HELD_ANISO=102 TRAIN_SEED=0
DENSITY_ISO=40     # presynaptic sites per um^3 (Synful needs partners in small 8 nm volumes)
DENSITY_ANISO=60   # Synister: ~270 sites in the training volume, ~120 held out
mkdir -p "$WORK" "$OUT"
run() { nice -n "$NICE" "$@"; }
stamp() { date -u +%H:%M:%S; }
START=$(date +%s)
echo "[$(stamp)] rebuild demo weights -> $OUT (work $WORK, smoke $SMOKE)"

echo "[$(stamp)] synthesize volumes"
run "$EMZOO" synth --out "$WORK/train_iso.zarr" --shape "$ISO_TRAIN" --mode isotropic \
  --seed $SEED_ISO --synapse-density $DENSITY_ISO --json &
run "$EMZOO" synth --out "$WORK/held_iso.zarr" --shape "$ISO_HELD" --mode isotropic \
  --seed $HELD_ISO --synapse-density $DENSITY_ISO --json &
run "$EMZOO" synth --out "$WORK/held_synful.zarr" --shape "$SYN_HELD" --mode isotropic \
  --seed $HELD_ISO --synapse-density $DENSITY_ISO --json &
wait
run "$EMZOO" synth --out "$WORK/train_aniso.zarr" --shape "$ANISO_TRAIN" --mode anisotropic \
  --seed $SEED_ANISO --synapse-density $DENSITY_ANISO --json &
run "$EMZOO" synth --out "$WORK/held_aniso.zarr" --shape "$ANISO_HELD" --mode anisotropic \
  --seed $HELD_ANISO --synapse-density $DENSITY_ANISO --json &
wait
ANISO_SET=("$WORK/train_aniso.zarr")  # Synister and Micron train on all of them (emzoo.data.mosaic)
for ((i = 0; i < N_EXTRA; i++)); do
  ANISO_SET+=("$WORK/train_aniso_extra_$i.zarr")
  run "$EMZOO" synth --out "$WORK/train_aniso_extra_$i.zarr" --shape "$ANISO_EXTRA" \
    --mode anisotropic --seed $((SEED_EXTRA + i)) --synapse-density $DENSITY_ANISO --json &
  if (( i % 2 == 1 )); then wait; fi
done
wait
# more_set NAME FIRST N: synthesizes N more anisotropic training volumes (seeds FIRST, FIRST+1,
# ...) and lists their paths in the array NAME
more_set() {
  local -n paths=$1
  local first=$2 n=$3 i
  paths=()
  for ((i = 0; i < n; i++)); do
    paths+=("$WORK/train_aniso_more_$((first + i)).zarr")
    run "$EMZOO" synth --out "${paths[$i]}" --shape "$ANISO_EXTRA" --mode anisotropic \
      --seed $((first + i)) --synapse-density $DENSITY_ANISO --json &
    if (( i % 2 == 1 )); then wait; fi
  done
  wait
}
# Synister's third stage trains on ANISO_SET and MORE_SET, its fourth on MORE2_SET as well, its
# fifth on MORE3_SET as well
more_set MORE_SET $((SEED_EXTRA + N_EXTRA)) "$N_MORE"
more_set MORE2_SET $((SEED_EXTRA + N_EXTRA + N_MORE)) "$N_MORE2"
more_set MORE3_SET $((SEED_EXTRA + N_EXTRA + N_MORE + N_MORE2)) "$N_MORE3"

# a later stage of model(): $3 iterations from its $ckpt (--init-from: weights only, a fresh
# optimiser; seed $4, two threads) on its train_set into $run_dir-$2; sets ckpt to the result
stage() {
  local name=$1 suffix=$2 n=$3 seed=$4
  echo "[$(stamp)] train $preset, $name stage ($n iterations from $ckpt, ${#train_set[@]} volume(s))"
  rm -rf "$run_dir-$suffix"
  run "$EMZOO" train --preset "$preset" --data "${train_set[@]}" --iterations "$n" \
    --out "$run_dir-$suffix" --init-from "$ckpt" --seed "$seed" --threads 2 \
    --save-every "$n" --log-every 10 --augment kornia-light --lr "$lr" \
    >"$WORK/$id.train-$suffix.log" 2>&1
  ckpt=$(ls "$run_dir-$suffix"/checkpoints/checkpoint_*.pt | sort | tail -n 1)
}

# one model: train -> export (newest checkpoint) -> evaluate on the held-out volume
model() {
  # $3: the training volume(s), space-separated; thresholds are tuned on the first
  # $8 = bn: recompute BatchNorm statistics on clean crops of the training volumes at export
  # $9 = iterations of a second stage from the first stage's weights (--init-from; fresh
  # optimiser, seed + 1, two threads: how the committed Synister continued), 0 or empty: none
  # ${10} = iterations of a third stage from the second's weights on the training volumes and
  # MORE_SET (seed + 2, two threads); ${11} = a fourth from the third's on those and MORE2_SET
  # (seed + 3); ${12} = a fifth from the fourth's on those and MORE3_SET (seed + 4); BatchNorm is
  # then recalibrated on all of them
  local preset=$1 id=$2 held=$4 iters=$5 lr=$6 test_k=${7:-} bn=${8:-} ft=${9:-0} ft2=${10:-0}
  local ft3=${11:-0} ft4=${12:-0}
  local -a train_set
  read -r -a train_set <<<"$3"
  local train=${train_set[0]}
  local run_dir="$WORK/runs/$id"
  echo "[$(stamp)] train $preset ($iters iterations, ${#train_set[@]} volume(s))"
  rm -rf "$run_dir"  # a fresh run: every rebuild starts from the same seed
  run "$EMZOO" train --preset "$preset" --data "${train_set[@]}" --iterations "$iters" --out "$run_dir" \
    --seed $TRAIN_SEED --threads 1 --save-every "$iters" --log-every 10 --augment kornia-light \
    --lr "$lr" \
    >"$WORK/$id.train.log" 2>&1
  local ckpt
  ckpt=$(ls "$run_dir"/checkpoints/checkpoint_*.pt | sort | tail -n 1)
  if [ "$ft" -gt 0 ]; then
    stage second ft "$ft" $((TRAIN_SEED + 1))
    # each later stage adds its volumes and starts from the one before; the first 0 ends the chain
    local -a later=("$ft2" "$ft3" "$ft4") names=(third fourth fifth) sets=(MORE_SET MORE2_SET MORE3_SET)
    local k more
    for k in 0 1 2; do
      [ "${later[$k]}" -gt 0 ] || break
      more="${sets[$k]}[@]"
      train_set+=("${!more}")
      stage "${names[$k]}" "ft$((k + 2))" "${later[$k]}" $((TRAIN_SEED + 2 + k))
    done
  fi
  echo "[$(stamp)] export $id from $ckpt"
  local -a recal=()
  if [ "$bn" = bn ]; then recal=(--recalibrate-bn "${train_set[@]}"); fi
  OMP_NUM_THREADS=1 run "$EMZOO" export --preset "$preset" --checkpoint "$ckpt" --out "$OUT/$id" \
    ${test_k:+--test-k "$test_k"} "${recal[@]}" --force >"$WORK/$id.export.log" 2>&1
  echo "[$(stamp)] evaluate $id on $held (threshold chosen on $train)"
  run "$EMZOO" evaluate --bundle "$OUT/$id" --data "$held" --tune-on "$train" --threads 1 \
    --write --json \
    >"$WORK/$id.metrics.json"
  echo "[$(stamp)] done $id"
}

(
  # dense models: test tensors at the smallest valid size (k = 0); the automatic k (outputs of
  # >= 16 voxels per axis) and the zoo/ variant's input-sized padded test output would make
  # each bundle 10-20 MB. Lanes balanced by CPU time: Synful + Synister, Micron + LSD.
  model synful-small synful-demo "$WORK/train_iso.zarr" "$WORK/held_synful.zarr" "$ITERS_SYNFUL" \
    "$LR_SYNFUL" 0
  model synister-small synister-demo "${ANISO_SET[*]}" "$WORK/held_aniso.zarr" \
    "$ITERS_SYNISTER" "$LR_SYNISTER" "" bn "$ITERS_SYNISTER_FT" "$ITERS_SYNISTER_FT2" \
    "$ITERS_SYNISTER_FT3" "$ITERS_SYNISTER_FT4"
) &
LANE_A=$!
(
  model micron-small micron-demo "${ANISO_SET[*]}" "$WORK/held_aniso.zarr" \
    "$ITERS_MICRON" "$LR_MICRON" 6  # k = 6: a 27x96x96 test input (k = 0 makes a cover of a few pixels)
  model lsd-small-mtlsd lsd-mtlsd-demo "$WORK/train_iso.zarr" "$WORK/held_iso.zarr" "$ITERS_LSD" \
    "$LR_LSD" 0
) &
LANE_B=$!
FAILED=0
wait $LANE_A || FAILED=1
wait $LANE_B || FAILED=1

echo "[$(stamp)] held-out metrics"
"$ROOT/.venv/bin/python" - "$WORK" <<'EOF'
import json, sys
from pathlib import Path

keys = {
    "lsd-mtlsd-demo": ["adapted_rand_error", "voi_split", "voi_merge", "affinity_mse"],
    "synful-demo": ["synful_f1", "synful_precision", "synful_recall", "synful_gt_pairs"],
    "synister-demo": ["synapse_accuracy", "neuron_accuracy", "synapses"],
    "micron-demo": ["soft_mask_f1", "soft_mask_precision", "soft_mask_recall"],
}
for model_id, names in keys.items():
    path = Path(sys.argv[1]) / f"{model_id}.metrics.json"
    if not path.exists():
        print(f"  {model_id}: no metrics (failed; see {sys.argv[1]}/{model_id}.*.log)")
        continue
    m = json.loads(path.read_text())["metrics"]
    print(f"  {model_id}: " + ", ".join(f"{k} {m[k]:.4g}" for k in names))
EOF
du -sh "$OUT"/{lsd-mtlsd-demo,synful-demo,synister-demo,micron-demo} 2>/dev/null || true
echo "[$(stamp)] finished in $(( ($(date +%s) - START) / 60 )) min $(( ($(date +%s) - START) % 60 )) s"
exit $FAILED
