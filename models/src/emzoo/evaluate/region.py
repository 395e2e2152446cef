"""The evaluated region: the volume minus the model's output halo on every side."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def crop_halo(array: np.ndarray, halo: Sequence[int], channels: bool = False) -> np.ndarray:
    box = tuple(slice(int(h), s - int(h)) for h, s in zip(halo, array.shape[-3:], strict=True))
    return array[(slice(None), *box)] if channels else array[box]


def region_offset(
    offset: Sequence[float], voxel_size: Sequence[float], halo: Sequence[int]
) -> np.ndarray:
    return np.asarray(offset, np.float64) + np.asarray(halo, np.float64) * np.asarray(
        voxel_size, np.float64
    )


def inside_region(
    points_nm: np.ndarray,
    offset: Sequence[float],
    voxel_size: Sequence[float],
    shape: Sequence[int],
    margin_nm: float = 0.0,
) -> np.ndarray:
    """Points whose voxel lies in the region (grown by ``margin_nm`` on every side)."""
    lo = np.asarray(offset, np.float64) - margin_nm
    hi = np.asarray(offset, np.float64) + np.asarray(shape) * np.asarray(voxel_size) + margin_nm
    p = np.reshape(points_nm, (-1, 3))
    return np.all((p >= lo) & (p < hi), axis=1)
