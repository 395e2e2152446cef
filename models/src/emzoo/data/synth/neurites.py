"""Branching neurite skeletons → a densely packed instance label volume.

Skeletons are persistent random walks with varying radius that enter the box from its faces
and branch. Every voxel goes to the neurite with the smallest distance-to-skeleton / local
radius (a multiplicatively weighted Voronoi partition): thin neurites get round profiles, thick
ones claim more space, and together they pack the volume without gaps, as neuropil does. The weighted partition is computed with
one Euclidean distance transform per radius band.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from emzoo.data.synth.grid import Grid


@dataclass
class Branch:
    neurite: int  # label id (1-based)
    points: np.ndarray  # (K, 3) nm
    radii: np.ndarray  # (K,) nm


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(np.linalg.norm(v), 1e-9)


def _perpendicular(rng, direction: np.ndarray) -> np.ndarray:
    return _unit(np.cross(direction, _unit(rng.normal(size=3))))


def grow_neurites(
    rng: np.random.Generator,
    box: np.ndarray,
    fill: float = 1.3,
    step: float = 30.0,
    mean_radius: float = 110.0,
    max_neurites: int = 400,
) -> list[Branch]:
    """Skeletons inside ``box`` (2x3 nm, lo/hi) until sum pi r² · length ≈ fill · box volume."""
    lo, hi = box
    volume = float(np.prod(hi - lo))
    occupied = 0.0
    branches: list[Branch] = []
    neurite = 0
    while occupied < fill * volume and neurite < max_neurites:
        neurite += 1
        # start on a random face, heading inwards
        start = rng.uniform(lo, hi)
        axis, side = rng.integers(3), rng.integers(2)
        start[axis] = hi[axis] if side else lo[axis]
        inward = np.zeros(3)
        inward[axis] = -1.0 if side else 1.0
        direction = _unit(inward + rng.normal(0, 0.6, 3))
        radius = float(np.clip(rng.lognormal(np.log(mean_radius), 0.45), 35.0, 400.0))
        todo = [(start, direction, radius, 0)]
        while todo:
            pos, direction, radius, depth = todo.pop()
            points, radii = [pos.copy()], [radius]
            r = radius
            for _ in range(2000):
                direction = _unit(direction + rng.normal(0, 0.12, 3))
                pos = pos + direction * step
                r = float(np.clip(r * np.exp(rng.normal(0, 0.04)), 0.6 * radius, 1.3 * radius))
                points.append(pos.copy())
                radii.append(r)
                if np.any(pos < lo - r) or np.any(pos > hi + r):
                    break
                if depth < 3 and rng.random() < 0.012:
                    turn = _unit(direction + _perpendicular(rng, direction) * rng.uniform(0.8, 2.0))
                    todo.append(
                        (pos.copy(), turn, max(35.0, r * rng.uniform(0.45, 0.8)), depth + 1)
                    )
            points, radii = np.array(points), np.array(radii)
            occupied += float(np.sum(np.pi * radii[1:] ** 2 * step))
            branches.append(Branch(neurite, points, radii))
    return branches


def _samples(branches: list[Branch], spacing: float):
    """Points every ``spacing`` nm along all branches, with their radius and neurite."""
    pts, rad, lab = [], [], []
    for b in branches:
        seg = np.diff(b.points, axis=0)
        for k, s in enumerate(seg):
            n = max(1, int(np.ceil(np.linalg.norm(s) / spacing)))
            t = np.arange(n)[:, None] / n
            pts.append(b.points[k] + t * s)
            rad.append(b.radii[k] + t[:, 0] * (b.radii[k + 1] - b.radii[k]))
            lab.append(np.full(n, b.neurite))
    return np.concatenate(pts), np.concatenate(rad), np.concatenate(lab)


def label_neurites(branches: list[Branch], grid: Grid, bands: int = 3) -> np.ndarray:
    """uint64 labels on ``grid``: smallest distance / radius wins."""
    points, radii, neurites = _samples(branches, min(grid.voxel_size) / 2)
    index = grid.index(points)
    ok = np.all((index >= 0) & (index < grid.shape), axis=1)
    index, radii, neurites = index[ok], radii[ok], neurites[ok]
    best = np.full(grid.shape, np.inf, np.float32)
    labels = np.zeros(grid.shape, np.uint64)
    edges = np.quantile(radii, np.linspace(0, 1, bands + 1))
    edges[-1] += 1
    for b in range(bands):
        sel = (radii >= edges[b]) & (radii < edges[b + 1])
        if not sel.any():
            continue
        seeds = np.zeros(grid.shape, np.int64)
        seeds[tuple(index[sel].T)] = np.flatnonzero(sel) + 1
        dist, nearest = ndimage.distance_transform_edt(
            seeds == 0, sampling=grid.voxel_size, return_indices=True
        )
        which = seeds[tuple(nearest)] - 1
        score = (dist / radii[which]).astype(np.float32)
        closer = score < best
        best[closer] = score[closer]
        labels[closer] = neurites[which[closer]]
    return labels
