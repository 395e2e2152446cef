"""Segmentation metrics against ground-truth labels: VOI (split, merge) and adapted Rand error.

Conventions are scikit-image's (``skimage.metrics``), implemented here on one sparse
contingency table so both come from a single pass over the voxels:

* VOI in bits (log2): ``voi_split = H(seg | gt)`` (over-segmentation), ``voi_merge = H(gt | seg)``
  (under-segmentation) — skimage's ``variation_of_information(gt, seg)`` returns the same pair in
  that order.
* Adapted Rand error (SNEMI3D): ``1 - Σ n_ij² / (½ Σ a_i² + ½ Σ b_j²)`` over pixel *pairs*
  (each count reduced by itself, i.e. pairs of distinct voxels), as
  ``skimage.metrics.adapted_rand_error(gt, seg)`` with alpha 0.5. Its "precision" and "recall"
  are reported with skimage's naming (precision = Σ n_ij² / Σ gt_i², recall = Σ n_ij² / Σ seg_j²).
* Voxels whose ground-truth label is in ``ignore_gt`` (default 0 = unlabelled) are left out of
  both metrics (skimage: ``ignore_labels=(0,)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from emzoo.errors import InvalidInput


def contingency(
    gt: np.ndarray, seg: np.ndarray, ignore_gt: Sequence[int] = (0,)
) -> sparse.csr_array:
    """Counts n_ij of voxels with gt label i and seg label j (rows: gt, columns: seg),
    labels compacted to 0..n-1; voxels with a gt label in ``ignore_gt`` are dropped."""
    gt, seg = np.asarray(gt), np.asarray(seg)
    if gt.shape != seg.shape:
        raise InvalidInput(
            f"ground truth {gt.shape} and segmentation {seg.shape} differ in shape",
            hint="compare label volumes over the same region",
        )
    g, s = gt.ravel(), seg.ravel()
    if len(ignore_gt):
        keep = ~np.isin(g, np.asarray(ignore_gt, dtype=g.dtype))
        g, s = g[keep], s[keep]
    _, gi = np.unique(g, return_inverse=True)
    _, si = np.unique(s, return_inverse=True)
    n_g = int(gi.max()) + 1 if gi.size else 0
    n_s = int(si.max()) + 1 if si.size else 0
    data = np.ones(gi.size, dtype=np.float64)
    return sparse.csr_array(sparse.coo_array((data, (gi, si)), shape=(n_g, n_s)))


def _plogp_sum(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(np.sum(p * np.log2(p)))


def voi(gt: np.ndarray, seg: np.ndarray, ignore_gt: Sequence[int] = (0,)) -> tuple[float, float]:
    """(split, merge) = (H(seg|gt), H(gt|seg)) in bits."""
    table = contingency(gt, seg, ignore_gt)
    total = table.sum()
    if total == 0:
        return 0.0, 0.0
    p = table.data / total
    h_joint = -_plogp_sum(p)
    h_gt = -_plogp_sum(np.asarray(table.sum(axis=1)).ravel() / total)
    h_seg = -_plogp_sum(np.asarray(table.sum(axis=0)).ravel() / total)
    # H(seg|gt) = H(gt, seg) - H(gt); clip tiny negative rounding
    return max(h_joint - h_gt, 0.0), max(h_joint - h_seg, 0.0)


@dataclass(frozen=True)
class RandScores:
    error: float
    precision: float
    recall: float


def adapted_rand(gt: np.ndarray, seg: np.ndarray, ignore_gt: Sequence[int] = (0,)) -> RandScores:
    table = contingency(gt, seg, ignore_gt)
    n = table.sum()
    a = np.asarray(table.sum(axis=1), np.float64).ravel()  # gt segment sizes
    b = np.asarray(table.sum(axis=0), np.float64).ravel()  # seg segment sizes
    # pairs of distinct voxels: Σ x² - Σ x
    both = float(table.data @ table.data - n)
    sum_a = float(a @ a - n)
    sum_b = float(b @ b - n)
    denominator = 0.5 * sum_a + 0.5 * sum_b
    if denominator == 0:
        # every segment is a single voxel in both: nothing can be split or merged
        return RandScores(0.0, 1.0, 1.0)
    precision = both / sum_a if sum_a else 1.0
    recall = both / sum_b if sum_b else 1.0
    return RandScores(1.0 - both / denominator, precision, recall)


def segmentation_scores(gt: np.ndarray, seg: np.ndarray, ignore_gt: Sequence[int] = (0,)) -> dict:
    split, merge = voi(gt, seg, ignore_gt)
    rand = adapted_rand(gt, seg, ignore_gt)
    return {
        "voi_split": split,
        "voi_merge": merge,
        "voi": split + merge,
        "adapted_rand_error": rand.error,
        "rand_precision": rand.precision,
        "rand_recall": rand.recall,
    }
