"""Synful's synaptic partner extraction (originals §3.5, mode 'cc'): post-synaptic probability
→ threshold → 3D connected components → location = the component's most interior voxel
(argmax of its own Euclidean distance transform, in nm) → partner = location + predicted
vector there. Score = sum of the probabilities over the component (Synful's default)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage


@dataclass(frozen=True)
class Partners:
    post: np.ndarray  # (N, 3) nm
    pre: np.ndarray  # (N, 3) nm
    scores: np.ndarray  # (N,)
    sizes: np.ndarray  # (N,) voxels per component


def extract_partners(
    probability: np.ndarray,
    vectors: np.ndarray,
    voxel_size: Sequence[float],
    offset: Sequence[float] = (0.0, 0.0, 0.0),
    threshold: float = 0.5,
    min_score: float = 0.0,
) -> Partners:
    """``probability`` (z, y, x) in [0, 1]; ``vectors`` (3, z, y, x) in nm pointing from a
    post-synaptic voxel to its pre-synaptic partner. A voxel's world location is
    offset + index · voxel_size (the convention of emzoo.targets.partner_vectors)."""
    vs = np.asarray(voxel_size, np.float64)
    off = np.asarray(offset, np.float64)
    components, _ = ndimage.label(probability > threshold)
    post, pre, scores, sizes = [], [], [], []
    for label, box in enumerate(ndimage.find_objects(components), start=1):
        if box is None:
            continue
        inside = components[box] == label
        score = float(probability[box][inside].sum())
        if score < min_score:
            continue
        # EDT of the component alone (pad so its border counts as outside)
        distance = ndimage.distance_transform_edt(np.pad(inside, 1), sampling=vs)[1:-1, 1:-1, 1:-1]
        local = np.unravel_index(int(np.argmax(distance)), inside.shape)
        index = np.array([s.start + i for s, i in zip(box, local, strict=True)])
        location = off + index * vs
        post.append(location)
        pre.append(location + vectors[(slice(None), *index)].astype(np.float64))
        scores.append(score)
        sizes.append(int(inside.sum()))
    as3 = lambda rows: np.array(rows, np.float64).reshape(-1, 3)  # noqa: E731
    return Partners(as3(post), as3(pre), np.array(scores), np.array(sizes, np.int64))
