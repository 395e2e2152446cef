"""A voxel grid in nm and distances from voxel centres to capsules (segments with a radius),
evaluated only in a small window around each capsule."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Grid:
    shape: tuple[int, int, int]
    voxel_size: tuple[float, float, float]  # nm
    # half the z extent a voxel integrates over when imaged: a TEM section shows everything
    # within its thickness (projection), an SEM block face only what is at the surface
    slab: float = 0.0

    def centre(self, index) -> np.ndarray:
        return (np.asarray(index, np.float64) + 0.5) * np.asarray(self.voxel_size)

    def index(self, point) -> np.ndarray:
        return np.floor(np.asarray(point, np.float64) / np.asarray(self.voxel_size)).astype(
            np.int64
        )

    def contains(self, point) -> bool:
        i = self.index(point)
        return bool(np.all(i >= 0) and np.all(i < self.shape))

    def window(self, lo_nm, hi_nm):
        """Slices covering the box [lo, hi] nm (clipped), or None when it misses the grid."""
        vs = np.asarray(self.voxel_size)
        lo = np.maximum(np.floor(np.asarray(lo_nm) / vs).astype(np.int64), 0)
        hi = np.minimum(np.floor(np.asarray(hi_nm) / vs).astype(np.int64) + 1, self.shape)
        if np.any(hi <= lo):
            return None
        return tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))

    def centres(self, window) -> list[np.ndarray]:
        """Broadcastable voxel-centre coordinates (nm) of a window, one array per axis."""
        out = []
        for axis, (sl, v) in enumerate(zip(window, self.voxel_size, strict=True)):
            shape = [1, 1, 1]
            shape[axis] = sl.stop - sl.start
            out.append(((np.arange(sl.start, sl.stop) + 0.5) * v).reshape(shape))
        return out

    def capsule(self, p0, p1, reach: float):
        """(window, distance in nm from each voxel centre to segment p0-p1) within ``reach``."""
        p0, p1 = np.asarray(p0, np.float64), np.asarray(p1, np.float64)
        window = self.window(np.minimum(p0, p1) - reach, np.maximum(p0, p1) + reach)
        if window is None:
            return None
        z, y, x = self.centres(window)
        d = p1 - p0
        length2 = float(d @ d)
        if length2 == 0:
            t = 0.0
        else:
            t = np.clip(
                ((z - p0[0]) * d[0] + (y - p0[1]) * d[1] + (x - p0[2]) * d[2]) / length2, 0, 1
            )
        dz = np.maximum(np.abs(z - p0[0] - t * d[0]) - self.slab, 0.0)
        dist = np.sqrt(dz**2 + (y - p0[1] - t * d[1]) ** 2 + (x - p0[2] - t * d[2]) ** 2)
        return window, dist
