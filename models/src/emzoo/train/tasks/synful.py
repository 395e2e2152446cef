"""Synful training pipeline (originals sections 3.3-3.4).

Targets are rasterised from the synapse table *before* augmentation (post-synaptic mask, partner
vectors and their mask), then TorchAugment moves them with raw: the mask by nearest neighbour and
the vectors also rotated, so pre = post + vector still holds after rotation and flips (gunpowder's
SimpleAugment is left out: it would transpose the vector field without rotating its values).
Then BalanceLabels on the mask (whole batch, clip 7e-4..0.9993) and raw *2-1.
Loss: sigmoid CE(mask logit; balance weights) + MSE(vectors; vectors_mask), SUM_BY_NONZERO_WEIGHTS.
Boxes contain a post-synaptic site with probability 0.95 (p_nonempty).
"""

from __future__ import annotations

import gunpowder as gp
import numpy as np

from emzoo.data.volume import EMVolume
from emzoo.errors import InvalidInput
from emzoo.losses import WeightedMSELoss, WeightedSigmoidCrossEntropy
from emzoo.preset import Preset
from emzoo.targets import balance_labels, partner_vectors, post_synaptic_mask
from emzoo.train.batches import GunpowderBatches
from emzoo.train.config import ADAM_FUNKE_TF
from emzoo.train.distributed import DistEnv
from emzoo.train.gp_nodes import ArrayFn
from emzoo.train.task import LossTerm, Task
from emzoo.train.tasks import common as c

MASK_RADIUS_NM = 10.0  # RasterizePoints ball radius (originals 3.3)
VECTOR_RADIUS_NM = 100.0  # d_blob_radius


def build(
    preset: Preset, volume: EMVolume, env: DistEnv, seed: int, batch_size: int, device
) -> Task:
    """``device``: where TorchAugment warps (the GPU, or the CPU inside data workers)."""
    if volume.neurons is None or len(volume.synapses) == 0:
        raise InvalidInput(
            "the training data has no neuron labels or no synapses",
            hint="write it with `emzoo synth`",
        )
    vs, off = c.grid_of(volume, preset)
    in_shape, out_shape = preset.train_input_shape, c.output_shape(preset)
    sem = preset.semantics
    mask_r = float(sem.get("mask_radius_nm", MASK_RADIUS_NM))
    vec_r = float(sem.get("vector_radius_nm", VECTOR_RADIUS_NM))
    post, pre = volume.synapses.post_locations, volume.synapses.pre_locations
    RAW, LABELS = gp.ArrayKey("RAW"), gp.ArrayKey("GT_LABELS")
    POST, VEC, VEC_MASK, POST_W = (
        gp.ArrayKey(n) for n in ("GT_POST_MASK", "GT_VECTORS", "VECTORS_MASK", "POST_WEIGHTS")
    )

    def rasterise(labels, offset, voxel_size):
        # voxel corner offsets (ours and gunpowder's) are what the target functions expect
        mask = post_synaptic_mask(post, labels, voxel_size, offset, radius=mask_r)
        vectors, vmask = partner_vectors(post, pre, labels, voxel_size, offset, radius=vec_r)
        return {"mask": mask, "vectors": vectors, "vectors_mask": vmask}

    def balance(mask, offset, voxel_size):
        return {"w": balance_labels(mask.astype(np.uint8), clipmin=7e-4, clipmax=0.9993)}

    pipeline = c.merged(
        c.source(RAW, volume.raw, off, vs) + gp.Normalize(RAW),
        c.source(LABELS, volume.neurons.astype(np.uint64), off, vs),
    )
    pipeline += ArrayFn(
        rasterise,
        {"labels": LABELS},
        {
            "mask": (POST, np.uint8),
            "vectors": (VEC, np.float32),
            "vectors_mask": (VEC_MASK, np.uint8),
        },
        context=tuple(int(np.ceil(vec_r / v)) * v for v in vs),
    )
    pipeline += c.torch_augment(
        RAW, vs, in_shape, labels=[POST], masks=[VEC_MASK], vectors=[VEC], device=device
    )
    pipeline += c.intensity_augment(RAW, vs)
    pipeline += ArrayFn(balance, {"mask": POST}, {"w": (POST_W, np.float32)})
    pipeline += gp.IntensityScaleShift(RAW, 2, -1)

    request = gp.BatchRequest()
    request[RAW] = c.spec(in_shape, vs)
    for k in (POST, VEC, VEC_MASK, POST_W):
        request[k] = c.spec(out_shape, vs)
    names = {
        "raw": RAW,
        "gt_mask": POST,
        "gt_vectors": VEC,
        "vectors_mask": VEC_MASK,
        "mask_weights": POST_W,
    }
    fallback = c.uniform_sampler(volume, vs, off, out_shape)
    sampler = c.near_points_sampler(post, volume, vs, off, out_shape, 0.95, fallback)
    batches = GunpowderBatches(pipeline, request, names, sampler, seed, env.rank, batch_size)
    return Task(
        name=preset.name,
        model=preset.build(),
        batches=batches,
        terms=[
            LossTerm(
                "syn_indicator",
                "gt_mask",
                WeightedSigmoidCrossEntropy(),
                weights="mask_weights",
                name="loss_mask",
            ),
            LossTerm(
                "partner_vector",
                "gt_vectors",
                WeightedMSELoss(),
                weights="vectors_mask",
                name="loss_vectors",
            ),
        ],
        optimizer=ADAM_FUNKE_TF,
        record={"input_shape": list(in_shape), "output_shape": list(out_shape)},
        close=batches.close,
    )
