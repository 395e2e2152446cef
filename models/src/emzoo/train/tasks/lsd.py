"""LSD / MTLSD / affinity training pipeline (Sheridan et al.; originals section 2.5).

Pipeline: sources (raw, labels, mask; zero-padded) → Normalize → augmentation profile (originals:
ElasticAugment / SimpleAugment / IntensityAugment per dataset; kornia-light: TorchAugment →
SimpleAugment → IntensityAugment; see emzoo.augment.profiles) → GrowBoundary →
targets (LSDs with sigma and downsample from the preset; affinities + mask) → BalanceLabels → raw *2-1.
Loss: weighted MSE per head (TF SUM_BY_NONZERO_WEIGHTS), LSD weights = labelled & in mask.
Autocontext stage 2 (ACRLSD): raw is requested at the stage-1 input size; the model wraps the
frozen stage-1 net (tasks/autocontext.py).
"""

from __future__ import annotations

import gunpowder as gp
import numpy as np

from emzoo.data.volume import EMVolume
from emzoo.errors import InvalidInput
from emzoo.losses import WeightedMSELoss
from emzoo.preset import Preset
from emzoo.targets import (
    affinities,
    affinity_context,
    balance_labels,
    local_shape_descriptors,
    lsd_weights,
)
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
) -> Task:
    """``device``: where TorchAugment warps (the GPU, or the CPU inside data workers);
    ``augment``: profile (emzoo.augment.profiles); ``stage1``: checkpoint or bundle of the
    stage-1 LSD net, for autocontext presets (more than one input channel)."""
    model, raw_shape, stage1_record = preset.build(), preset.train_input_shape, {}
    if preset.in_channels != 1:
        from emzoo.train.tasks import autocontext as ac

        s1 = ac.stage1_preset(preset)
        if stage1 is None:
            raise InvalidInput(
                f"{preset.name} is an autocontext stage 2: it needs a trained {s1.name} net",
                hint=f"train {s1.name} first, then pass --stage1 <its checkpoint or bundle>",
            )
        raw_shape = ac.stage1_input_shape(s1, preset.train_input_shape)
        with_raw = preset.in_channels == 1 + int(s1.kwargs.get("num_lsds", 0))
        model = ac.Autocontext(
            model, ac.load_stage1(stage1, s1), preset.train_input_shape, with_raw=with_raw
        )
        stage1_record = {
            "stage1": str(stage1),
            "stage1_preset": s1.name,
            "stage1_input_shape": list(raw_shape),
        }
    elif stage1 is not None:
        raise InvalidInput(
            f"--stage1 is for autocontext presets; {preset.name} takes raw only",
            hint="drop --stage1, or pick an autocontext preset (e.g. lsd-small-acrlsd)",
        )
    if volume.neurons is None:
        raise InvalidInput(
            "the training data has no neuron labels", hint="write it with `emzoo synth`"
        )
    vs, off = c.grid_of(volume, preset)
    sem = preset.semantics
    num_lsds = int(preset.kwargs.get("num_lsds", 0))
    offsets = [tuple(o) for o in sem.get("affinity_offsets", [])]
    sigma = float(sem.get("lsd_sigma_nm") or 0.0)
    df = int(sem.get("lsd_downsample", 2)) if num_lsds else 1
    in_shape, out_shape = preset.train_input_shape, c.output_shape(preset)

    RAW, LABELS, MASK = gp.ArrayKey("RAW"), gp.ArrayKey("GT_LABELS"), gp.ArrayKey("GT_MASK")
    GT_LSDS, LSDS_W = gp.ArrayKey("GT_LSDS"), gp.ArrayKey("LSDS_WEIGHTS")
    GT_AFFS, AFFS_MASK, AFFS_W = (
        gp.ArrayKey("GT_AFFS"),
        gp.ArrayKey("AFFS_MASK"),
        gp.ArrayKey("AFFS_WEIGHTS"),
    )
    mask = volume.mask if volume.mask is not None else np.ones(volume.shape, np.uint8)

    def targets(labels, mask, offset, voxel_size):
        out = {}
        if num_lsds:
            out["lsds"] = local_shape_descriptors(labels, sigma, voxel_size, downsample=df)[
                :num_lsds
            ]
            out["lsds_weights"] = lsd_weights(labels, mask)
        if offsets:
            out["affs"], out["affs_mask"] = affinities(labels, offsets, labels_mask=mask)
        return out

    def balance(affs, affs_mask, offset, voxel_size):
        return {"w": balance_labels(affs.astype(np.uint8), masks=affs_mask)}

    outputs = {}
    if num_lsds:
        outputs.update(lsds=(GT_LSDS, np.float32), lsds_weights=(LSDS_W, np.float32))
    if offsets:
        outputs.update(affs=(GT_AFFS, np.float32), affs_mask=(AFFS_MASK, np.float32))
    neg, pos = affinity_context(offsets) if offsets else ((0, 0, 0), (0, 0, 0))
    ctx_vox = [
        max(n, p, int(np.ceil(3 * sigma / v)) if num_lsds else 0)
        for n, p, v in zip(neg, pos, vs, strict=True)
    ]
    aniso = c.anisotropic(vs)

    pipeline = c.merged(
        c.source(RAW, volume.raw, off, vs) + gp.Normalize(RAW),
        c.source(LABELS, volume.neurons.astype(np.uint64), off, vs),
        c.source(MASK, mask.astype(np.uint8), off, vs),
    )
    if augment == "kornia-light":  # the pipeline as before profiles, unchanged
        pipeline += c.torch_augment(
            RAW, vs, raw_shape, labels=[LABELS], masks=[MASK], device=device
        )
        pipeline += gp.SimpleAugment(transpose_only=[1, 2] if aniso else None)
        pipeline += c.intensity_augment(RAW, vs)
    else:
        pipeline = c.chain(
            pipeline,
            c.augmentation(
                augment, "lsd", preset, vs, RAW, labels=[LABELS], masks=[MASK], device=device
            ),
        )
    pipeline += gp.GrowBoundary(LABELS, MASK, steps=1, only_xy=aniso)
    pipeline += ArrayFn(
        targets,
        {"labels": LABELS, "mask": MASK},
        outputs,
        context=tuple(cv * v for cv, v in zip(ctx_vox, vs, strict=True)),
        multiple=df,
    )
    if offsets:
        pipeline += ArrayFn(
            balance, {"affs": GT_AFFS, "affs_mask": AFFS_MASK}, {"w": (AFFS_W, np.float32)}
        )
    pipeline += gp.IntensityScaleShift(RAW, 2, -1)

    request = gp.BatchRequest()
    request[RAW] = c.spec(raw_shape, vs)
    names = {"raw": RAW}
    terms = []
    if num_lsds:
        request[GT_LSDS], request[LSDS_W] = c.spec(out_shape, vs), c.spec(out_shape, vs)
        names.update(gt_lsds=GT_LSDS, lsds_weights=LSDS_W)
        terms.append(
            LossTerm("lsds", "gt_lsds", WeightedMSELoss(), weights="lsds_weights", name="loss_lsds")
        )
    if offsets:
        request[GT_AFFS], request[AFFS_W] = c.spec(out_shape, vs), c.spec(out_shape, vs)
        names.update(gt_affs=GT_AFFS, affs_weights=AFFS_W)
        terms.append(
            LossTerm("affs", "gt_affs", WeightedMSELoss(), weights="affs_weights", name="loss_affs")
        )

    sampler = c.uniform_sampler(volume, vs, off, out_shape, mask=volume.mask, min_masked=0.5)
    batches = GunpowderBatches(pipeline, request, names, sampler, seed, env.rank, batch_size)
    return Task(
        name=preset.name,
        model=model,
        batches=batches,
        terms=terms,
        optimizer=ADAM_FUNKE_TF,
        record={
            "input_shape": list(in_shape),
            "output_shape": list(out_shape),
            "lsd_sigma_nm": sigma or None,
            "augment": augment,
            **stage1_record,
        },
        close=batches.close,
    )
