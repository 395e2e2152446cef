"""Micron targets (originals §5.2): microtubule polylines → track labels → LSDs with sigma = 4 nm.

Channels 0-8 are the "derivatives", channel 9 (Gaussian-weighted inside fraction) the soft
mask; the loss weighting lives in ``emzoo.losses``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from skimage.draw import line_nd

from emzoo.targets._points import as_points, to_voxel
from emzoo.targets.lsd import local_shape_descriptors

MICRON_SIGMA_NM = 4.0


def rasterize_tracks(
    tracks: Sequence[np.ndarray],
    shape: tuple[int, ...],
    voxel_size: Sequence[float],
    offset: Sequence[float] = (0, 0, 0),
    ids: Sequence[int] | None = None,
) -> np.ndarray:
    """uint64 labels: each track (a (K,3) polyline in nm) drawn as 1-voxel lines between its
    consecutive nodes (both ends included, as gunpowder RasterizeGraph edges) with its id
    (default 1, 2, …). Later tracks overwrite earlier ones where they cross; parts outside the
    volume are dropped."""
    out = np.zeros(shape, dtype=np.uint64)
    ids = list(range(1, len(tracks) + 1)) if ids is None else list(ids)
    bound = np.asarray(shape)
    for track_id, track in zip(ids, tracks, strict=True):
        voxels = to_voxel(as_points(track, "track nodes"), voxel_size, offset)
        segments = [voxels[:1]] if len(voxels) == 1 else []
        for a, b in itertools.pairwise(voxels):
            segments.append(np.array(line_nd(a, b, endpoint=True)).T)
        if not segments:
            continue
        points = np.concatenate(segments)
        points = points[np.all((points >= 0) & (points < bound), axis=1)]
        out[tuple(points.T)] = track_id
    return out


def micron_targets(
    track_labels: np.ndarray, voxel_size: Sequence[float], sigma: float = MICRON_SIGMA_NM
) -> np.ndarray:
    """float32 (10, z, y, x): LSDs of the rasterised tracks (channel 9 = soft mask)."""
    return local_shape_descriptors(track_labels, sigma, voxel_size, mode="gaussian", downsample=1)
