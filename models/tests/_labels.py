"""Random dense label volumes for target tests (Voronoi cells with background speckles)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def voronoi_labels(shape, n, seed, background=0.05, dtype=np.uint64):
    rng = np.random.default_rng(seed)
    seeds = np.zeros(shape, np.int64)
    seeds[tuple(rng.integers(0, s, n) for s in shape)] = rng.permutation(np.arange(1, n + 1)) * 7
    _, index = ndimage.distance_transform_edt(seeds == 0, return_indices=True)
    labels = seeds[tuple(index)]
    labels[rng.random(shape) < background] = 0
    return labels.astype(dtype)
