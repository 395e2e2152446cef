"""Evaluation metrics and post-processing on hand-made cases with hand-derived values, and the
segmentation metrics against scikit-image on the same arrays."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.metrics import adapted_rand_error, variation_of_information

from emzoo.evaluate import (
    adapted_rand,
    agglomerate_mean,
    extract_partners,
    match_pairs,
    prf,
    segment_affinities,
    voi,
)
from emzoo.evaluate.grow_boundary import grow_boundary
from emzoo.evaluate.micron import score_soft_mask
from emzoo.evaluate.synful import score_partners
from emzoo.evaluate.synful_extract import Partners
from emzoo.evaluate.synister import score_classes
from emzoo.targets import STANDARD_3D, affinities


def _blocks(shape=(16, 16, 16), size=8) -> np.ndarray:
    z, y, x = np.indices(shape) // size
    n = shape[0] // size
    return (z * n * n + y * n + x + 1).astype(np.uint64)


# ---- VOI / adapted Rand -----------------------------------------------------------------------


def test_perfect_segmentation_scores_zero_whatever_the_ids():
    gt = _blocks()
    seg = (gt * 7 + 100).astype(np.int64)  # same partition, other ids
    assert voi(gt, seg) == pytest.approx((0.0, 0.0), abs=1e-12)
    r = adapted_rand(gt, seg)
    assert r.error == pytest.approx(0.0, abs=1e-12)
    assert (r.precision, r.recall) == pytest.approx((1.0, 1.0))


def test_split_in_half_costs_one_bit_and_known_rand_error():
    gt = np.ones((1, 1, 8), np.uint64)
    seg = np.array([[[1, 1, 1, 1, 2, 2, 2, 2]]])
    # H(seg | gt) = entropy of a 50/50 split = 1 bit; nothing merged
    assert voi(gt, seg) == pytest.approx((1.0, 0.0))
    # pairs of distinct voxels: together in both 2·4·3 = 24, in gt 8·7 = 56, in seg 24
    # → ARE = 1 - 24 / (56/2 + 24/2) = 0.4
    assert adapted_rand(gt, seg).error == pytest.approx(0.4)
    # the same two labellings the other way round: a merge
    assert voi(seg, gt) == pytest.approx((0.0, 1.0))
    assert adapted_rand(seg, gt).error == pytest.approx(0.4)


def test_ground_truth_zero_is_ignored():
    gt = np.array([0, 0, 0, 1, 1, 2, 2])
    seg = np.array([5, 6, 7, 1, 1, 2, 2])  # disagreement only where gt = 0
    assert voi(gt, seg) == pytest.approx((0.0, 0.0))
    assert adapted_rand(gt, seg).error == pytest.approx(0.0)
    assert voi(gt, seg, ignore_gt=())[0] > 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_skimage(seed):
    rng = np.random.default_rng(seed)
    gt = rng.integers(0, 6, (9, 11, 13))
    seg = np.where(rng.random(gt.shape) < 0.7, gt * 3, rng.integers(0, 9, gt.shape))
    ref_split, ref_merge = variation_of_information(gt, seg, ignore_labels=(0,))
    assert voi(gt, seg) == pytest.approx((ref_split, ref_merge), rel=1e-10)
    assert voi(gt, seg, ignore_gt=()) == pytest.approx(
        tuple(variation_of_information(gt, seg)), rel=1e-10
    )
    are, precision, recall = adapted_rand_error(gt, seg)
    r = adapted_rand(gt, seg)
    assert (r.error, r.precision, r.recall) == pytest.approx((are, precision, recall), rel=1e-10)


# ---- watershed + agglomeration ------------------------------------------------------------------


def test_grow_boundary_matches_gunpowder():
    gp = pytest.importorskip("gunpowder")
    labels = _blocks((12, 12, 12), 4)
    labels[2:6, 5:9, 1:3] = 99
    ours = grow_boundary(labels, 1)
    theirs = labels.copy()
    gp.GrowBoundary(gp.ArrayKey("L"), steps=1)._GrowBoundary__grow(theirs)
    np.testing.assert_array_equal(ours, theirs)
    theirs_xy = labels.copy()
    gp.GrowBoundary(gp.ArrayKey("L"), steps=1, only_xy=True)._GrowBoundary__grow(
        theirs_xy, only_xy=True
    )
    np.testing.assert_array_equal(grow_boundary(labels, 1, only_xy=True), theirs_xy)


def test_target_affinities_segment_blocks_perfectly():
    gt = _blocks((24, 24, 24), 12)
    affs, _ = affinities(grow_boundary(gt, 1), STANDARD_3D)
    seg = segment_affinities(affs, STANDARD_3D, threshold=0.5, min_seed_distance=3)
    # the band (affinities to the previous voxel: one voxel off the label border) is filled from
    # the nearest segment, ties on cube edges going either way: a few % of VOI, ~1 % of ARE
    assert adapted_rand(gt, seg).error < 0.015
    assert sum(voi(gt, seg)) < 0.1
    inner = grow_boundary(gt, 1)
    unfilled = segment_affinities(affs, STANDARD_3D, 0.5, 3, fill=False)
    foreground = affs.mean(axis=0) > 0.5
    assert ((unfilled == 0) == ~foreground).all()  # the band is no fragment's (lsd.post's mask)
    assert adapted_rand(np.where(foreground, inner, 0), unfilled).error < 1e-9


def test_agglomeration_merges_by_mean_affinity():
    frags = np.zeros((1, 1, 6), np.uint64)
    frags[..., :2], frags[..., 2:4], frags[..., 4:] = 1, 2, 3
    affs = np.ones((3, 1, 1, 6), np.float32)
    affs[2, 0, 0, 2] = 0.9  # x-affinity between voxels 1|2 (fragments 1, 2)
    affs[2, 0, 0, 4] = 0.2  # between voxels 3|4 (fragments 2, 3)
    seg = agglomerate_mean(affs, STANDARD_3D, frags, threshold=0.5)
    assert seg[0, 0, 0] == seg[0, 0, 2] != seg[0, 0, 4]
    assert len(np.unique(agglomerate_mean(affs, STANDARD_3D, frags, threshold=0.1))) == 1
    assert len(np.unique(agglomerate_mean(affs, STANDARD_3D, frags, threshold=0.95))) == 3


def test_synthetic_neurons_from_their_target_affinities():
    """The whole LSD post-processing on what a perfect net would predict (the training target:
    GrowBoundary(1) then affinities) for a synthetic volume; erosion cuts some thin necks, which
    no affinity-only method can rejoin, so the bound is loose but far below trivial answers."""
    from emzoo.data.synth import generate_volume

    labels = generate_volume((48, 48, 48), "isotropic", seed=5).neurons.astype(np.uint64)
    affs, _ = affinities(grow_boundary(labels, 1), STANDARD_3D)
    seg = segment_affinities(affs, STANDARD_3D, threshold=0.5)
    are = adapted_rand(labels, seg).error
    assert are < 0.15
    assert are < 0.3 * adapted_rand(labels, np.ones_like(labels)).error


# ---- Synful ------------------------------------------------------------------------------------


def test_matching_is_one_to_one_and_optimal():
    gt_post = np.array([[0, 0, 0], [0, 0, 150]], float)
    gt_pre = gt_post + np.array([0, 0, 50])
    # prediction 0 could take either pair, prediction 1 only pair 0: a greedy nearest-first
    # assignment (0→0) leaves 1 unmatched; the optimum matches both
    pred_post = np.array([[0, 0, 60], [0, 0, -40]], float)
    pred_pre = pred_post + np.array([0, 0, 50])
    assert sorted(match_pairs(pred_post, pred_pre, gt_post, gt_pre, 100)) == [(0, 1), (1, 0)]


def test_matching_needs_both_ends_within_distance():
    gt_post = np.array([[0, 0, 0]], float)
    gt_pre = np.array([[0, 0, 80]], float)
    ok = match_pairs(gt_post + 10, gt_pre - 10, gt_post, gt_pre, 100)
    far_pre = match_pairs(gt_post, gt_pre + np.array([0, 150, 0]), gt_post, gt_pre, 100)
    assert ok == [(0, 0)] and far_pre == []


def test_partner_scores_count_border_pairs_neither_way():
    gt_post = np.array([[0, 0, 0], [0, 0, 500], [0, 0, 1000]], float)
    gt_pre = gt_post + np.array([0, 40, 0])
    counts = np.array([True, True, False])  # the third lies outside the evaluated region
    found = Partners(
        post=np.array([[0, 0, 8], [0, 0, 1000], [0, 0, 2000]], float),
        pre=np.array([[0, 40, 8], [0, 40, 1000], [0, 40, 2000]], float),
        scores=np.ones(3),
        sizes=np.ones(3, np.int64),
    )
    s = score_partners(found, gt_post, gt_pre, counts, 100)
    # tp: pair 0; fn: pair 1; the match with the outside pair 2 is ignored; fp: the third
    assert (s["synful_true_positives"], s["synful_false_negatives"]) == (1, 1)
    assert (s["synful_false_positives"], s["synful_ignored_at_border"]) == (1, 1)
    assert s["synful_f1"] == pytest.approx(0.5)


def test_extract_partners_from_blobs():
    vs = (8.0, 8.0, 8.0)
    prob = np.zeros((20, 20, 20), np.float32)
    vectors = np.zeros((3, 20, 20, 20), np.float32)
    zz, yy, xx = np.indices(prob.shape)
    for centre, vec in (((5, 5, 5), (0, 0, 64)), ((14, 12, 6), (-40, 16, 0))):
        ball = (zz - centre[0]) ** 2 + (yy - centre[1]) ** 2 + (xx - centre[2]) ** 2 <= 4
        prob[ball] = 0.9
        vectors[:, ball] = np.array(vec, np.float32)[:, None]
    prob[0, 19, 19] = 0.3  # below threshold
    found = extract_partners(prob, vectors, vs, offset=(100, 0, 0))
    order = np.argsort(found.post[:, 0])
    post, pre = found.post[order], found.pre[order]
    np.testing.assert_allclose(post, [[140, 40, 40], [212, 96, 48]])
    np.testing.assert_allclose(pre, [[140, 40, 104], [172, 112, 48]])
    assert list(found.sizes[order]) == [33, 33]  # 1 + 6 + 12 + 8 + 6 voxels within radius 2
    assert len(extract_partners(prob, vectors, vs, min_score=40).post) == 0


def test_prf_edge_cases():
    assert prf(0, 0, 0) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert prf(0, 3, 0)["f1"] == 0.0
    assert prf(3, 1, 1)["f1"] == pytest.approx(0.75)


# ---- Synister / Micron --------------------------------------------------------------------------


def test_synister_accuracies_by_hand():
    probs = np.array(
        [
            [0.6, 0.4, 0, 0, 0, 0],  # neuron 1, class 0: right
            [0.1, 0.9, 0, 0, 0, 0],  # neuron 1, class 0: wrong
            [0.45, 0.55, 0, 0, 0, 0],  # neuron 1, class 0: wrong, but the sum picks class 0
            [0, 0, 1, 0, 0, 0],  # neuron 2, class 2: right
        ]
    )
    s = score_classes(probs, np.array([0, 0, 0, 2]), np.array([1, 1, 1, 2]))
    assert s["synapse_accuracy"] == pytest.approx(0.5)
    assert s["synapse_balanced_accuracy"] == pytest.approx((1 / 3 + 1) / 2)
    # neuron 1 sums to (1.15, 1.85): wrong; neuron 2 right
    assert s["neuron_accuracy"] == pytest.approx(0.5)
    assert not any(k.startswith("recall_") for k in s)
    names = ("gaba", "acetylcholine", "glutamate", "serotonin", "octopamine", "dopamine")
    named = score_classes(probs, np.array([0, 0, 0, 2]), np.array([1, 1, 1, 2]), names)
    # only the classes present get a recall: gaba 1 of 3, glutamate 1 of 1
    assert {k: v for k, v in named.items() if k.startswith("recall_")} == pytest.approx(
        {"recall_gaba": 1 / 3, "recall_glutamate": 1.0}
    )


def test_micron_soft_mask_tolerance():
    vs = (40.0, 4.0, 4.0)
    tracks = np.zeros((3, 40, 40), bool)
    tracks[1, 20, 5:35] = True  # 30 voxels along x
    shifted = np.zeros(tracks.shape, np.float32)
    shifted[1, 22, 5:35] = 0.9  # 8 nm away
    s = score_soft_mask(shifted, tracks, vs, threshold=0.2, tolerance_nm=40)
    assert (s["soft_mask_precision"], s["soft_mask_recall"]) == (1.0, 1.0)
    far = np.zeros(tracks.shape, np.float32)
    far[1, 35, 5:35] = 0.9  # 60 nm away
    assert score_soft_mask(far, tracks, vs, 0.2, 40)["soft_mask_f1"] == 0.0
    half = np.zeros(tracks.shape, np.float32)
    half[1, 20, 5:20] = 0.9
    half[0, 0, 0] = 0.9  # one false voxel
    s = score_soft_mask(half, tracks, vs, 0.2, 40)
    # precision 15/16; recall: track voxels within 40 nm (10 voxels) of x = 5..19 → x = 5..29
    assert s["soft_mask_precision"] == pytest.approx(15 / 16)
    assert s["soft_mask_recall"] == pytest.approx(25 / 30)


# ---- perfect predictions through the task pipelines --------------------------------------------


def test_synful_targets_as_prediction_find_every_pair():
    from emzoo.data.synth import generate_volume
    from emzoo.evaluate.region import inside_region
    from emzoo.targets import partner_vectors, post_synaptic_mask

    v = generate_volume((64, 64, 64), "isotropic", seed=3, synapse_density=60)
    labels, vs = v.neurons.astype(np.uint64), v.voxel_size
    post, pre = v.synapses.post_locations, v.synapses.pre_locations
    mask = post_synaptic_mask(post, labels, vs, v.offset).astype(np.float32)
    vectors, _ = partner_vectors(post, pre, labels, vs, v.offset)
    found = extract_partners(mask, vectors, vs, v.offset)
    inside = inside_region(post, v.offset, vs, labels.shape)
    s = score_partners(found, post, pre, inside, 100)
    assert s["synful_gt_pairs"] >= 3
    assert s["synful_f1"] == 1.0


def test_micron_target_as_prediction_scores_perfectly():
    from emzoo.data.synth import generate_volume
    from emzoo.evaluate.options import EvalOptions
    from emzoo.targets import micron_targets

    v = generate_volume((12, 96, 96), "anisotropic", seed=3)
    tracks = v.microtubule_labels
    soft = micron_targets(tracks, v.voxel_size)[9]
    opts = EvalOptions()
    s = score_soft_mask(
        soft, tracks > 0, v.voxel_size, opts.micron_threshold, opts.micron_tolerance_nm
    )
    assert s["track_voxels"] > 100
    assert s["soft_mask_f1"] == 1.0
    # the originals' 0.5 would find nothing on this target
    assert score_soft_mask(soft, tracks > 0, v.voxel_size, 0.5, 40)["predicted_voxels"] == 0
