"""Mitochondria (capsule chains) and microtubules (polylines) running along neurite skeletons."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emzoo.data.synth.grid import Grid
from emzoo.data.synth.neurites import Branch


@dataclass
class Mitochondrion:
    neurite: int
    points: np.ndarray  # (K, 3) nm axis
    radius: float


def _offset_path(rng, branch: Branch, start: int, stop: int, magnitude: float) -> np.ndarray:
    """Branch points start..stop shifted sideways by a fixed amount (perpendicular to the path)."""
    points = branch.points[start:stop]
    tangent = np.gradient(points, axis=0) if len(points) > 1 else np.ones((1, 3))
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-9)
    w = rng.normal(size=3)
    side = w - (tangent @ w)[:, None] * tangent
    side /= np.maximum(np.linalg.norm(side, axis=1, keepdims=True), 1e-9)
    return points + side * magnitude


def _inside_runs(
    points: np.ndarray, labels: np.ndarray, grid: Grid, neurite: int
) -> list[np.ndarray]:
    """Maximal runs of consecutive points inside the neurite's label whose connecting segments
    stay inside too, voxel by voxel as Micron's targets rasterise them (line_nd between the
    nodes' voxels), so a track never crosses into a neighbour."""
    from skimage.draw import line_nd

    def ok(p):
        return grid.contains(p) and labels[tuple(grid.index(p))] == neurite

    def segment_ok(a, b):
        voxels = line_nd(grid.index(a), grid.index(b), endpoint=True)
        return bool(np.all(labels[voxels] == neurite))

    runs, current = [], []
    for k, p in enumerate(points):
        if ok(p) and (not current or segment_ok(points[k - 1], p)):
            current.append(p)
        else:
            if len(current) >= 2:
                runs.append(np.array(current))
            current = [p] if ok(p) else []
    if len(current) >= 2:
        runs.append(np.array(current))
    return runs


def place_mitochondria(
    rng, branches: list[Branch], labels, grid: Grid, step: float = 30.0
) -> list[Mitochondrion]:
    out = []
    for b in branches:
        r = float(b.radii.mean())
        if r < 70 or len(b.points) < 8:
            continue
        for _ in range(rng.poisson(len(b.points) * step / 1200.0)):
            n = int(rng.uniform(150, 500) / step) + 1
            start = int(rng.integers(0, max(1, len(b.points) - n)))
            radius = float(min(0.45 * r, rng.uniform(28, 60)))
            path = _offset_path(rng, b, start, start + n, rng.uniform(0, max(0.0, r - radius - 15)))
            out += [
                Mitochondrion(b.neurite, run, radius)
                for run in _inside_runs(path, labels, grid, b.neurite)
            ]
    return out


def place_microtubules(
    rng, branches: list[Branch], labels, grid: Grid, node_every: int = 3
) -> list[tuple[int, np.ndarray]]:
    """(neurite, polyline nm) per microtubule, kept only where it stays inside its neurite."""
    out = []
    for b in branches:
        r = float(b.radii.mean())
        if r < 45 or len(b.points) < 4:
            continue
        for _ in range(min(6, rng.poisson(r / 45.0))):
            path = _offset_path(rng, b, 0, len(b.points), rng.uniform(0, 0.6 * r))[::node_every]
            for run in _inside_runs(path, labels, grid, b.neurite):
                if np.linalg.norm(np.diff(run, axis=0), axis=1).sum() >= 150:
                    out.append((b.neurite, run))
    return out
