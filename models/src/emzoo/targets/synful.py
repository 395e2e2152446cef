"""Synful targets (originals §3.3): post-synaptic indicator balls and partner vectors in nm.

Points are world coordinates in nm (z, y, x); the label volume starts at ``offset`` (nm) with
``voxel_size`` (nm). Points outside the volume are skipped: to include balls of points just
outside a crop, compute on labels with ``ceil(radius)`` nm of context and crop afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emzoo.errors import InvalidInput
from emzoo.targets._points import as_points, ball_window, inside, to_voxel


def _check(labels, voxel_size, offset):
    labels = np.asarray(labels)
    if labels.ndim != 3 or len(voxel_size) != 3 or len(offset) != 3:
        raise InvalidInput(
            f"Synful targets need 3D labels and 3-element voxel_size/offset, got {labels.shape}",
            hint="pass labels (z,y,x) with voxel_size and offset in nm",
        )
    return labels


def post_synaptic_mask(
    post_locations,
    labels: np.ndarray,
    voxel_size: Sequence[float],
    offset: Sequence[float] = (0, 0, 0),
    radius: float = 10.0,
) -> np.ndarray:
    """uint8 (z,y,x): union of balls (radius nm) around each post point, each kept inside the
    neuron at its point; points on label 0 are skipped (gunpowder RasterizeGraph, ball mode,
    mask=labels)."""
    labels = _check(labels, voxel_size, offset)
    points = as_points(post_locations, "post_locations")
    out = np.zeros(labels.shape, dtype=np.uint8)
    voxels = to_voxel(points, voxel_size, offset)
    for v in voxels[inside(voxels, labels.shape)]:
        label = labels[tuple(v)]
        if label == 0:
            continue
        window = ball_window(v, radius, voxel_size, labels.shape)
        if window is None:
            continue
        sl, dist2 = window
        out[sl] |= ((dist2 <= 1.0) & (labels[sl] == label)).astype(np.uint8)
    return out


def partner_vectors(
    post_locations,
    pre_locations,
    labels: np.ndarray,
    voxel_size: Sequence[float],
    offset: Sequence[float] = (0, 0, 0),
    radius: float = 100.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(vectors float32 (3,z,y,x) in nm, vectors_mask uint8 (z,y,x)).

    Around each post point a ball of ``radius`` nm inside the post neuron (the label at the
    point) gets value pre - world coordinate of the voxel. Where balls overlap, a voxel belongs
    to the nearest post point (voxel-centre distance in nm; ties → the first point). The mask is
    the union of balls. Unlike Synful's node the nearest point is chosen among the balls
    covering the voxel only, so a vector never comes from a ball that excludes the voxel.
    """
    labels = _check(labels, voxel_size, offset)
    post = as_points(post_locations, "post_locations")
    pre = as_points(pre_locations, "pre_locations")
    if len(post) != len(pre):
        raise InvalidInput(
            f"{len(post)} post but {len(pre)} pre locations",
            hint="pass one pre location per post location (partner pairs)",
        )
    best = np.full(labels.shape, np.inf)
    owner = np.full(labels.shape, -1, dtype=np.int64)
    voxels = to_voxel(post, voxel_size, offset)
    vs = np.asarray(voxel_size, np.float64)
    for i in np.flatnonzero(inside(voxels, labels.shape)):
        v = voxels[i]
        window = ball_window(v, radius, voxel_size, labels.shape)
        if window is None:
            continue
        sl, dist2 = window
        member = (dist2 <= 1.0) & (labels[sl] == labels[tuple(v)])
        closer = member & (dist2 * radius**2 < best[sl])
        best[sl][closer] = dist2[closer] * radius**2
        owner[sl][closer] = i
    mask = owner >= 0
    vectors = np.zeros((3, *labels.shape), dtype=np.float32)
    idx = np.nonzero(mask)
    world = np.asarray(offset, np.float64)[:, None] + np.array(idx, np.float64) * vs[:, None]
    vectors[(slice(None), *idx)] = (pre[owner[idx]].T - world).astype(np.float32)
    return vectors, mask.astype(np.uint8)
