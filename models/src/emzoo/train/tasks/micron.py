"""Micron training pipeline (originals section 5.2): LSD targets (sigma = 4 nm) of the rasterised
microtubule tracks, channel 9 = soft mask; MicronLoss weights foreground by the foreground count.

Pipeline: sources (raw, track labels; zero-padded) → Normalize → augmentation profile (originals:
ElasticAugment with slips/shifts → SimpleAugment(transpose y,x) → IntensityAugment z-section-wise)
→ targets → raw *2-1. Boxes are centred near a track with
probability 0.9 (the synthetic tracks are sparse).
"""

from __future__ import annotations

import gunpowder as gp
import numpy as np

from emzoo.data.volume import EMVolume
from emzoo.errors import InvalidInput
from emzoo.losses import MicronLoss
from emzoo.preset import Preset
from emzoo.targets import MICRON_SIGMA_NM, micron_task_targets
from emzoo.train.batches import GunpowderBatches
from emzoo.train.config import ADAM_FUNKE_TF
from emzoo.train.distributed import DistEnv
from emzoo.train.gp_nodes import ArrayFn
from emzoo.train.task import LossTerm, Task
from emzoo.train.tasks import common as c


def build(
    preset: Preset,
    volume: EMVolume,
    env: DistEnv,
    seed: int,
    batch_size: int,
    device,
    augment: str = "kornia-light",
    stage1: str | None = None,
    foreground_weight: float | None = None,
) -> Task:
    """``device``: where TorchAugment warps (the GPU, or the CPU inside data workers);
    ``augment``: profile (emzoo.augment.profiles); ``stage1``: autocontext only (LSD);
    ``foreground_weight``: MicronLoss's (None: the originals' foreground count)."""
    c.no_stage1(preset, stage1)
    if volume.microtubule_labels is None:
        raise InvalidInput(
            "the training data has no rasterised microtubule tracks (microtubules/labels)",
            hint="write it with `emzoo synth` (it stores tracks and their rasterisation)",
        )
    vs, off = c.grid_of(volume, preset)
    sigma = float(preset.semantics.get("lsd_sigma_nm") or MICRON_SIGMA_NM)
    in_shape, out_shape = preset.train_input_shape, c.output_shape(preset)
    RAW, TRACKS, GT = gp.ArrayKey("RAW"), gp.ArrayKey("GT_TRACKS"), gp.ArrayKey("GT_MICRON_LSDS")

    def targets(tracks, offset, voxel_size):
        return micron_task_targets(tracks, voxel_size, sigma)

    pipeline = c.merged(
        c.source(RAW, volume.raw, off, vs) + gp.Normalize(RAW),
        c.source(TRACKS, volume.microtubule_labels.astype(np.uint64), off, vs),
    )
    if augment == "kornia-light":  # the pipeline as before profiles, unchanged
        pipeline += c.torch_augment(RAW, vs, in_shape, labels=[TRACKS], device=device)
        pipeline += gp.SimpleAugment(transpose_only=[1, 2] if c.anisotropic(vs) else None)
        pipeline += c.intensity_augment(RAW, vs)
    else:
        nodes = c.augmentation(augment, "micron", preset, vs, RAW, labels=[TRACKS], device=device)
        pipeline = c.chain(pipeline, nodes)
    ctx = tuple(int(np.ceil(3 * sigma / v)) * v for v in vs)
    pipeline += ArrayFn(targets, {"tracks": TRACKS}, {"lsds": (GT, np.float32)}, context=ctx)
    pipeline += gp.IntensityScaleShift(RAW, 2, -1)

    request = gp.BatchRequest()
    request[RAW], request[GT] = c.spec(in_shape, vs), c.spec(out_shape, vs)
    nodes = volume.microtubules.nodes if volume.microtubules is not None else np.zeros((0, 3))
    fallback = c.uniform_sampler(volume, vs, off, out_shape)
    sampler = c.near_points_sampler(nodes, volume, vs, off, out_shape, 0.9, fallback)
    batches = GunpowderBatches(
        pipeline, request, {"raw": RAW, "gt_lsds": GT}, sampler, seed, env.rank, batch_size
    )
    return Task(
        name=preset.name,
        model=preset.build(),
        batches=batches,
        terms=[
            LossTerm(
                "lsds", "gt_lsds", MicronLoss(foreground_weight=foreground_weight), name="loss_lsds"
            )
        ],
        optimizer=ADAM_FUNKE_TF,
        record={
            "input_shape": list(in_shape),
            "output_shape": list(out_shape),
            "sigma_nm": sigma,
            "augment": augment,
            "foreground_weight": "count" if foreground_weight is None else foreground_weight,
        },
        close=batches.close,
    )
