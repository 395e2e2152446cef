"""Micron evaluation: the soft mask, thresholded, against the rasterised tracks with a distance
tolerance (precision: predicted voxels within ``tolerance`` nm of a track voxel; recall: track
voxels within ``tolerance`` nm of a predicted voxel)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from emzoo.data.volume import EMVolume
from emzoo.errors import InvalidInput
from emzoo.evaluate.matching import prf
from emzoo.evaluate.options import EvalOptions
from emzoo.evaluate.predict import Bundle, Model, predict_dense
from emzoo.evaluate.region import crop_halo


def _distance_to(mask: np.ndarray, voxel_size: Sequence[float]) -> np.ndarray:
    if not mask.any():
        return np.full(mask.shape, np.inf)
    return ndimage.distance_transform_edt(~mask, sampling=voxel_size)


def score_soft_mask(
    soft_mask: np.ndarray,
    tracks: np.ndarray,
    voxel_size: Sequence[float],
    threshold: float,
    tolerance_nm: float,
    distance_to_tracks: np.ndarray | None = None,
) -> dict[str, float]:
    """``tracks``: bool, track voxels of the region; ``distance_to_tracks`` (nm) may come from a
    larger volume, so tracks just outside the region still count for precision."""
    predicted = soft_mask > threshold
    if distance_to_tracks is None:
        distance_to_tracks = _distance_to(tracks, voxel_size)
    tp_pred = int(np.sum(distance_to_tracks[predicted] <= tolerance_nm))
    fp = int(predicted.sum()) - tp_pred
    found = int(np.sum(_distance_to(predicted, voxel_size)[tracks] <= tolerance_nm))
    fn = int(tracks.sum()) - found
    # precision counts predicted voxels, recall track voxels
    precision = prf(tp_pred, fp, 0)["precision"]
    recall = prf(found, 0, fn)["recall"]
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "soft_mask_precision": precision,
        "soft_mask_recall": recall,
        "soft_mask_f1": f1,
        "predicted_voxels": float(predicted.sum()),
        "track_voxels": float(tracks.sum()),
    }


def evaluate_micron(bundle: Bundle, volume: EMVolume, opts: EvalOptions) -> dict[str, float]:
    if volume.microtubule_labels is None:
        raise InvalidInput(
            "the held-out volume has no rasterised microtubule tracks (microtubules/labels)",
            hint="use an emzoo synth volume",
        )
    pred = predict_dense(bundle, volume.raw, Model(bundle, opts.threads))
    soft = pred[int(bundle.semantics.get("soft_mask_channel", len(bundle.channel_names) - 1))]
    tracks = volume.microtubule_labels > 0
    distance = crop_halo(_distance_to(tracks, volume.voxel_size), bundle.halo)
    return score_soft_mask(
        np.clip(soft, 0, 1),
        crop_halo(tracks, bundle.halo),
        volume.voxel_size,
        opts.micron_threshold,
        opts.micron_tolerance_nm,
        distance,
    )
