"""All targets and loss weights of one task from a label crop, as the originals' pipelines
assemble them (originals 2.4-2.5, 3.3, 5.2). Arrays are channel-first numpy, no batch axis."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emzoo.targets.affinities import STANDARD_3D, affinities
from emzoo.targets.balance import balance_labels
from emzoo.targets.lsd import local_shape_descriptors
from emzoo.targets.micron import MICRON_SIGMA_NM, micron_targets
from emzoo.targets.synful import partner_vectors, post_synaptic_mask


def lsd_weights(
    labels: np.ndarray, labels_mask: np.ndarray | None = None, unmask_background: bool = False
) -> np.ndarray:
    """(1, ...) float32 LSD loss weight: 1 on objects (label != 0), times ``labels_mask``;
    ``unmask_background`` also trains outside the GT mask (FIB-25 MTLSD's UnmaskBackground)."""
    weights = (np.asarray(labels) != 0).astype(np.float32)
    if labels_mask is not None:
        inside = np.asarray(labels_mask).astype(np.float32)
        weights *= inside
        if unmask_background:
            weights = np.maximum(weights, 1 - inside)
    return weights[None]


def lsd_task_targets(
    labels: np.ndarray,
    voxel_size: Sequence[float],
    sigma: float | Sequence[float] = 80.0,
    downsample: int = 2,
    neighborhood: Sequence[Sequence[int]] = STANDARD_3D,
    labels_mask: np.ndarray | None = None,
    unmask_background: bool = False,
) -> dict[str, np.ndarray]:
    """LSDs (10 ch) + affinities (one per offset) with their loss weights: ``lsds_weights``
    (1 ch) and ``affs_weights`` = BalanceLabels(affs, mask=affs_mask) with the default clip."""
    affs, affs_mask = affinities(labels, neighborhood, labels_mask=labels_mask)
    return {
        "lsds": local_shape_descriptors(labels, sigma, voxel_size, downsample=downsample),
        "lsds_weights": lsd_weights(labels, labels_mask, unmask_background),
        "affs": affs,
        "affs_weights": balance_labels(affs.astype(np.uint8), affs_mask),
    }


def synful_task_targets(
    labels: np.ndarray,
    post_locations,
    pre_locations,
    voxel_size: Sequence[float],
    offset: Sequence[float] = (0, 0, 0),
    mask_radius: float = 10.0,
    vector_radius: float = 100.0,
) -> dict[str, np.ndarray]:
    """Post-synaptic indicator (1 ch) with BalanceLabels weights over the whole crop (clip
    7e-4..0.9993), partner vectors (3 ch, nm) and their mask (1 ch)."""
    mask = post_synaptic_mask(post_locations, labels, voxel_size, offset, radius=mask_radius)
    vectors, vectors_mask = partner_vectors(
        post_locations, pre_locations, labels, voxel_size, offset, radius=vector_radius
    )
    weights = balance_labels(mask, slab=(-1,) * mask.ndim, clipmin=7e-4, clipmax=0.9993)
    return {
        "post_mask": mask[None].astype(np.float32),
        "post_mask_weights": weights[None],
        "vectors": vectors,
        "vectors_mask": vectors_mask[None].astype(np.float32),
    }


def micron_task_targets(
    track_labels: np.ndarray, voxel_size: Sequence[float], sigma: float = MICRON_SIGMA_NM
) -> dict[str, np.ndarray]:
    """Micron's 10-channel target (9 derivatives + soft mask); weights come from the loss."""
    return {"lsds": micron_targets(track_labels, voxel_size, sigma)}
