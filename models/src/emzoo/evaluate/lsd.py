"""LSD / MTLSD evaluation: affinity error against the training target (gunpowder GrowBoundary(1),
only in xy for anisotropic data, then AddAffinities — what the net was trained to predict), and
the segmentation (watershed + mean agglomeration) against the ground-truth labels."""

from __future__ import annotations

import numpy as np

from emzoo.data.volume import EMVolume
from emzoo.errors import InvalidInput
from emzoo.evaluate.grow_boundary import grow_boundary
from emzoo.evaluate.options import EvalOptions
from emzoo.evaluate.predict import Bundle, Model, predict_dense
from emzoo.evaluate.region import crop_halo
from emzoo.evaluate.segmentation_metrics import segmentation_scores
from emzoo.evaluate.watershed import segment_affinities
from emzoo.targets import affinities


def score_affinities(
    affs: np.ndarray,
    offsets,
    gt_labels: np.ndarray,
    opts: EvalOptions,
    target_affs: np.ndarray | None = None,
    target_mask: np.ndarray | None = None,
    gt_interior: np.ndarray | None = None,
) -> dict[str, float]:
    """Segment ``affs`` (channels, z, y, x) and score it against ``gt_labels`` (0 = ignored);
    with a target, also the affinity MSE / mean absolute error over the target's mask; with
    ``gt_interior`` (the labels after GrowBoundary, 0 on the eroded band), also the scores with
    that band ignored (``interior_*``): the voxels the net was trained to call boundary."""
    out: dict[str, float] = {}
    if target_affs is not None:
        mask = np.ones(target_affs.shape, bool) if target_mask is None else target_mask > 0
        diff = (affs - target_affs)[mask]
        out["affinity_mse"] = float(np.mean(diff**2)) if diff.size else 0.0
        out["affinity_mae"] = float(np.mean(np.abs(diff))) if diff.size else 0.0
    seg = segment_affinities(affs, offsets, opts.seg_threshold, opts.min_seed_distance)
    out.update(segmentation_scores(gt_labels, seg))
    if gt_interior is not None:
        inner = segmentation_scores(gt_interior, seg)
        out.update(
            {f"interior_{k}": inner[k] for k in ("voi_split", "voi_merge", "adapted_rand_error")}
        )
    out["segments"] = float(len(np.unique(seg)))
    out["gt_segments"] = float(len(np.unique(gt_labels[gt_labels != 0])))
    return out


def evaluate_lsd(bundle: Bundle, volume: EMVolume, opts: EvalOptions) -> dict[str, float]:
    if volume.neurons is None:
        raise InvalidInput(
            "the held-out volume has no neuron labels", hint="write it with `emzoo synth`"
        )
    sem = bundle.semantics
    names = sem.get("heads", {}).get("affs")
    offsets = sem.get("affinity_offsets")
    if not names or not offsets:
        raise InvalidInput(
            f"{bundle.folder} predicts no affinities (an LSD-only net)",
            hint="evaluate an affinity or MTLSD bundle; LSD-only nets feed autocontext",
        )
    pred = predict_dense(bundle, volume.raw, Model(bundle, opts.threads))
    affs = pred[bundle.channels(names)]
    mask = volume.mask if volume.mask is not None else np.ones(volume.shape, np.uint8)
    vs = np.asarray(volume.voxel_size)
    grown = grow_boundary(volume.neurons.astype(np.uint64), 1, only_xy=bool(vs[0] != vs[1]))
    target, target_mask = affinities(grown, offsets, labels_mask=mask)
    halo = bundle.halo
    gt = crop_halo(np.where(mask > 0, volume.neurons, 0), halo)
    return score_affinities(
        affs,
        offsets,
        gt,
        opts,
        crop_halo(target, halo, channels=True),
        crop_halo(target_mask, halo, channels=True),
        crop_halo(np.where(mask > 0, grown, 0), halo),
    )
