"""Per-batch class balancing weights (gunpowder BalanceLabels semantics).

Weight of class c = 1 / (num_classes · frac_c), frac_c = share of masked-in voxels of class c
clipped to [clipmin, clipmax]; 0 where any mask is 0. ``slab`` balances blocks independently
(-1 = whole axis).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from emzoo.errors import InvalidInput


def _balance_block(labels: np.ndarray, scale: np.ndarray, num_classes, clipmin, clipmax) -> None:
    labels = labels.astype(np.int64)
    masked_in = scale.sum()
    classes, counts = np.unique(labels[np.nonzero(scale)], return_counts=True)
    fracs = counts.astype(np.float64) / masked_in if masked_in > 0 else np.zeros(counts.size)
    if clipmin is not None or clipmax is not None:
        np.clip(fracs, clipmin, clipmax, out=fracs)
    weights = np.zeros(num_classes)
    weights[classes] = 1.0 / float(num_classes) / fracs
    scale *= np.take(weights, labels)


def balance_labels(
    labels: np.ndarray,
    masks: np.ndarray | Sequence[np.ndarray] | None = None,
    slab: Sequence[int] | None = None,
    num_classes: int = 2,
    clipmin: float | None = 0.05,
    clipmax: float | None = 0.95,
) -> np.ndarray:
    """float32 weights with the shape of ``labels`` (integer classes in [0, num_classes))."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise InvalidInput(
            f"labels range [{labels.min()}, {labels.max()}] is outside [0, {num_classes})",
            hint="pass integer class labels (e.g. a binary 0/1 mask) or raise num_classes",
        )
    scale = np.ones(labels.shape, dtype=np.float32)
    if masks is not None:
        for mask in [masks] if isinstance(masks, np.ndarray) else masks:
            if np.shape(mask) != labels.shape:
                raise InvalidInput(
                    f"mask shape {np.shape(mask)} differs from labels shape {labels.shape}",
                    hint="masks must cover exactly the labels' voxels",
                )
            scale *= mask
    block = (
        labels.shape
        if not slab
        else tuple(m if s == -1 else s for m, s in zip(labels.shape, slab, strict=True))
    )
    for start in itertools.product(
        *(range(0, m, s) for m, s in zip(labels.shape, block, strict=True))
    ):
        sl = tuple(slice(a, a + s) for a, s in zip(start, block, strict=True))
        _balance_block(labels[sl], scale[sl], num_classes, clipmin, clipmax)
    return scale
