"""One-to-one matching of detections to ground truth within a distance (Hungarian), and the
precision / recall / F1 that follow from it."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    """Precision, recall, F1; an empty side counts as perfect (nothing to find / nothing wrong)."""
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def match_pairs(
    pred_post: np.ndarray,
    pred_pre: np.ndarray,
    gt_post: np.ndarray,
    gt_pre: np.ndarray,
    max_distance: float,
) -> list[tuple[int, int]]:
    """Matched (prediction, ground truth) index pairs of synaptic partner pairs.

    A prediction may match a ground-truth pair when both its post- and its pre-synaptic location
    lie within ``max_distance`` (nm) of the pair's; among those, the Hungarian algorithm
    (scipy.optimize.linear_sum_assignment) picks the one-to-one matching with the most matches
    and, among those, the smallest summed post + pre distance.
    """
    pred_post, pred_pre = np.reshape(pred_post, (-1, 3)), np.reshape(pred_pre, (-1, 3))
    gt_post, gt_pre = np.reshape(gt_post, (-1, 3)), np.reshape(gt_pre, (-1, 3))
    if len(pred_post) == 0 or len(gt_post) == 0:
        return []
    d_post, d_pre = cdist(pred_post, gt_post), cdist(pred_pre, gt_pre)
    allowed = (d_post <= max_distance) & (d_pre <= max_distance)
    # a match always beats no match: cost = total distance - a bonus larger than any distance sum
    bonus = 4.0 * max_distance + 1.0
    cost = np.where(allowed, d_post + d_pre - bonus, 0.0)
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if allowed[r, c]]
