"""gunpowder's GrowBoundary (the LSD training pipeline's step before its targets): every label is
eroded by ``steps`` face-connected voxels, eroded voxels become background (0); the volume
border does not erode (gunpowder's ``border_value=1``); ``only_xy`` erodes within sections."""

from __future__ import annotations

import numpy as np


def grow_boundary(labels: np.ndarray, steps: int = 1, only_xy: bool = False) -> np.ndarray:
    out = np.array(labels, copy=True)
    axes = (1, 2) if only_xy else tuple(range(out.ndim))
    for _ in range(steps):
        keep = out != 0
        for axis in axes:
            n = out.shape[axis]
            lo = [slice(None)] * out.ndim
            hi = [slice(None)] * out.ndim
            lo[axis], hi[axis] = slice(0, n - 1), slice(1, n)
            same = out[tuple(lo)] == out[tuple(hi)]
            keep[tuple(lo)] &= same
            keep[tuple(hi)] &= same
        out[~keep] = 0
    return out
