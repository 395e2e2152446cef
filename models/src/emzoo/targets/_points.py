"""World (nm) ↔ voxel helpers and ball footprints shared by the point-based targets."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emzoo.errors import InvalidInput


def as_points(points, what: str, ndim: int = 3) -> np.ndarray:
    array = (
        np.asarray(points, dtype=np.float64).reshape(-1, ndim)
        if np.size(points)
        else np.zeros((0, ndim))
    )
    if not np.all(np.isfinite(array)):
        raise InvalidInput(
            f"{what} contain NaN or infinite coordinates", hint="drop or fix those points"
        )
    return array


def to_voxel(
    points_nm: np.ndarray, voxel_size: Sequence[float], offset: Sequence[float]
) -> np.ndarray:
    """Voxel index holding each point (floor of (p - offset) / voxel size), int64 (N, ndim)."""
    return np.floor(
        (points_nm - np.asarray(offset, np.float64)) / np.asarray(voxel_size, np.float64)
    ).astype(np.int64)


def ball_window(
    center: np.ndarray, radius: float, voxel_size: Sequence[float], shape: tuple[int, ...]
):
    """Slices of the volume around ``center`` and the squared normalised distances there.

    A voxel is in the ball when Σ(Δ_i·v_i/r)² ≤ 1 (gunpowder's ``enlarge_binary_map`` criterion,
    distances between voxel centres). Returns (slices, dist2) or None when the window is empty.
    """
    vs = np.asarray(voxel_size, dtype=np.float64)
    reach = np.ceil(radius / vs).astype(np.int64)
    lo = np.maximum(center - reach, 0)
    hi = np.minimum(center + reach + 1, shape)
    if np.any(hi <= lo):
        return None
    grids = np.meshgrid(
        *[
            ((np.arange(a, b) - c) * v / radius) ** 2
            for a, b, c, v in zip(lo, hi, center, vs, strict=True)
        ],
        indexing="ij",
    )
    return tuple(slice(a, b) for a, b in zip(lo, hi, strict=True)), sum(grids)


def inside(voxels: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return np.all((voxels >= 0) & (voxels < np.asarray(shape)), axis=1)
