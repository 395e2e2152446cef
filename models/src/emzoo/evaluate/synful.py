"""Synful evaluation: extracted synaptic partners matched to the ground-truth pairs."""

from __future__ import annotations

import numpy as np

from emzoo.data.volume import EMVolume
from emzoo.errors import InvalidInput
from emzoo.evaluate.matching import match_pairs, prf
from emzoo.evaluate.options import EvalOptions
from emzoo.evaluate.predict import Bundle, Model, predict_dense
from emzoo.evaluate.region import inside_region, region_offset
from emzoo.evaluate.synful_extract import Partners, extract_partners


def score_partners(
    found: Partners,
    gt_post: np.ndarray,
    gt_pre: np.ndarray,
    gt_counts: np.ndarray,
    distance_nm: float,
) -> dict[str, float]:
    """Precision / recall / F1 of ``found`` against ground-truth pairs.

    ``gt_counts`` marks the pairs whose post-synaptic site lies in the evaluated region; the
    others (just outside, within reach of a detection near the border) may absorb a detection,
    which then counts neither way, but are never missed."""
    matches = match_pairs(found.post, found.pre, gt_post, gt_pre, distance_nm)
    tp = sum(1 for _, g in matches if gt_counts[g])
    ignored = len(matches) - tp
    fp = len(found.post) - len(matches)
    fn = int(np.sum(gt_counts)) - tp
    out = {f"synful_{k}": v for k, v in prf(tp, fp, fn).items()}
    out.update(
        synful_true_positives=float(tp),
        synful_false_positives=float(fp),
        synful_false_negatives=float(fn),
        synful_ignored_at_border=float(ignored),
        synful_gt_pairs=float(np.sum(gt_counts)),
        synful_detections=float(len(found.post)),
    )
    return out


def evaluate_synful(bundle: Bundle, volume: EMVolume, opts: EvalOptions) -> dict[str, float]:
    if len(volume.synapses) == 0:
        raise InvalidInput(
            "the held-out volume has no synapses", hint="use a larger emzoo synth volume"
        )
    sem = bundle.semantics
    pred = predict_dense(bundle, volume.raw, Model(bundle, opts.threads))
    prob = pred[bundle.channels([sem.get("indicator_channel", "syn_indicator")])[0]]
    vectors = pred[
        bundle.channels(sem.get("vector_channels", ["vector_z", "vector_y", "vector_x"]))
    ]
    off = region_offset(volume.offset, volume.voxel_size, bundle.halo)
    found = extract_partners(
        prob, vectors, volume.voxel_size, off, opts.synful_threshold, opts.synful_min_score
    )
    post, pre = volume.synapses.post_locations, volume.synapses.pre_locations
    near = inside_region(
        post, off, volume.voxel_size, prob.shape, margin_nm=opts.synful_distance_nm
    )
    counts = inside_region(post[near], off, volume.voxel_size, prob.shape)
    return score_partners(found, post[near], pre[near], counts, opts.synful_distance_nm)
