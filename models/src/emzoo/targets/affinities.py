"""Affinities from labels for any neighbourhood (gunpowder AddAffinities semantics).

Channel e at voxel p is 1 iff labels[p] == labels[p + offset_e] and both are non-zero; pairs
reaching outside the volume are 0. Callers that want gunpowder's context handling read labels
grown by the neighbourhood's extent and crop the result (see ``affinity_context``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emzoo.errors import InvalidInput

STANDARD_3D = ((-1, 0, 0), (0, -1, 0), (0, 0, -1))
STANDARD_2D = ((-1, 0), (0, -1))
# zebrafinch long-range neighbourhood (originals §2.2)
LONG_RANGE_3D = (
    (-1, 0, 0), (0, -1, 0), (0, 0, -1),
    (-3, 0, 0), (0, -3, 0), (0, 0, -3),
    (-5, 0, 0), (0, -9, 0), (0, 0, -9),
    (-15, 0, 0), (0, -27, 0), (0, 0, -27),
)  # fmt: skip


def _neighborhood(neighborhood: Sequence[Sequence[int]], ndim: int) -> np.ndarray:
    nhood = np.asarray(neighborhood, dtype=np.int64)
    if nhood.ndim != 2 or nhood.shape[1] != ndim or len(nhood) == 0:
        raise InvalidInput(
            f"affinity neighbourhood {neighborhood!r} does not fit {ndim}D labels",
            hint=f"give a list of offsets with {ndim} integers each, e.g. {list(STANDARD_3D if ndim == 3 else STANDARD_2D)}",
        )
    return nhood


def _pair_slices(offset: np.ndarray, shape: tuple[int, ...]):
    """Slices selecting p (here) and p + offset (there) where both lie inside the volume."""
    here = tuple(slice(max(0, -o), min(s, s - o)) for o, s in zip(offset, shape, strict=True))
    there = tuple(slice(max(0, o), min(s, s + o)) for o, s in zip(offset, shape, strict=True))
    return here, there


def _same_nonzero(labels: np.ndarray, nhood: np.ndarray) -> np.ndarray:
    out = np.zeros((len(nhood), *labels.shape), dtype=bool)
    for e, offset in enumerate(nhood):
        here, there = _pair_slices(offset, labels.shape)
        a, b = labels[here], labels[there]
        out[(e, *here)] = (a == b) & (a != 0) & (b != 0)
    return out


def affinities(
    labels: np.ndarray,
    neighborhood: Sequence[Sequence[int]] = STANDARD_3D,
    labels_mask: np.ndarray | None = None,
    unlabelled: np.ndarray | None = None,
    dtype=np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Affinities (E, *shape) and their loss mask (E, *shape), both ``dtype``.

    ``labels_mask``: affinities touching a masked-out voxel (0) are masked out (the mask is
    treated like a label volume, as gunpowder does). ``unlabelled``: 0 marks unlabelled voxels;
    affinities between two unlabelled voxels are masked out. Without either, the mask is all 1.
    """
    labels = np.asarray(labels)
    nhood = _neighborhood(neighborhood, labels.ndim)
    affs = _same_nonzero(labels, nhood).astype(dtype)
    for name, extra in (("labels_mask", labels_mask), ("unlabelled", unlabelled)):
        if extra is not None and np.shape(extra) != labels.shape:
            raise InvalidInput(
                f"{name} shape {np.shape(extra)} differs from labels shape {labels.shape}",
                hint=f"pass a {name} covering exactly the labels' voxels",
            )
    if labels_mask is not None:
        mask = _same_nonzero(np.asarray(labels_mask), nhood)
    else:
        mask = np.ones(affs.shape, dtype=bool)
    if unlabelled is not None:
        both_unlabelled = _same_nonzero(1 - np.asarray(unlabelled).astype(np.int64), nhood)
        mask &= ~both_unlabelled
    return affs, mask.astype(dtype)


def affinity_context(
    neighborhood: Sequence[Sequence[int]],
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Voxels of label context needed before and after an output region (negative, positive)."""
    nhood = np.asarray(neighborhood, dtype=np.int64)
    neg = tuple(int(-min(0, nhood[:, d].min())) for d in range(nhood.shape[1]))
    pos = tuple(int(max(0, nhood[:, d].max())) for d in range(nhood.shape[1]))
    return neg, pos
