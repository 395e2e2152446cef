"""TorchAugment: raw and labels stay aligned under kornia 3D geometry; intensity leaves labels alone."""

from __future__ import annotations

import gunpowder as gp
import kornia.augmentation as K
import numpy as np
import pytest
import torch
from funlib.persistence import Array as PArray
from scipy import ndimage

from emzoo.augment import TorchAugment

pytestmark = pytest.mark.usefixtures("one_torch_thread")


BIG = np.uint64(2**60)  # ids far beyond float32/float64 integer precision


def _blobs(shape, seed=0):
    """A smooth field (raw) and its thresholded connected components as huge uint64 ids."""
    rng = np.random.default_rng(seed)
    field = ndimage.gaussian_filter(rng.standard_normal(shape), 2.5)
    field = (field - field.min()) / (field.max() - field.min())
    cc, _ = ndimage.label(field > 0.5)
    ids = np.where(cc > 0, BIG + cc.astype(np.uint64) * np.uint64(7919), np.uint64(0))
    return field.astype(np.float32), ids.astype(np.uint64)


def _source(key, data, offset, voxel_size):
    return gp.ArraySource(key, PArray(data, offset=offset, voxel_size=voxel_size))


def _merged(*sources):
    return sources + gp.MergeProvider()


def _run(pipeline, request):
    with gp.build(pipeline):
        return pipeline.request_batch(request)


RAW, LABELS, MASK = gp.ArrayKey("RAW"), gp.ArrayKey("LABELS"), gp.ArrayKey("MASK")


@pytest.mark.parametrize(
    "transform",
    [
        K.RandomAffine3D(
            degrees=(25, 25, 25),
            translate=(0.05, 0.05, 0.05),
            scale=(0.9, 1.1),
            p=1.0,
            align_corners=True,
        ),
        K.RandomRotation3D(30.0, p=1.0),  # align_corners=False: corrected for
        K.AugmentationSequential(
            K.RandomRotation3D((0.0, 0.0, 40.0), p=1.0, align_corners=True),
            K.RandomDepthicalFlip3D(p=1.0),
            K.RandomHorizontalFlip3D(p=1.0),
        ),
    ],
    ids=["affine", "rotation-align-false", "sequential-rot-flips"],
)
def test_threshold_of_augmented_raw_matches_augmented_labels(transform):
    torch.manual_seed(3)
    shape = (32, 32, 32)
    raw, labels = _blobs(shape)
    vs = (4, 4, 4)
    pipeline = _merged(_source(RAW, raw, (0, 0, 0), vs), _source(LABELS, labels, (0, 0, 0), vs))
    pipeline += TorchAugment(transform, raw=RAW, labels=[LABELS], device="cpu")
    req = gp.BatchRequest(random_seed=11)
    req[RAW] = gp.ArraySpec(roi=gp.Roi((0, 0, 0), (128, 128, 128)))
    req[LABELS] = gp.ArraySpec(roi=gp.Roi((0, 0, 0), (128, 128, 128)))
    batch = _run(pipeline, req)
    a_raw, a_lab = batch[RAW].data, batch[LABELS].data
    assert a_lab.dtype == np.uint64
    # it moved something
    assert (a_lab != labels).mean() > 0.05
    # ids stay from the original set (nearest neighbour, no float round trip)
    assert set(np.unique(a_lab)) <= set(np.unique(labels))
    # threshold of the (bilinearly) warped raw ≈ the nearest-warped labels, away from the
    # zero-padded border and the iso-surface (where interpolation may flip the side)
    inside = ndimage.binary_erosion(a_raw > 0, iterations=2)
    near_surface = np.abs(a_raw - 0.5) < 0.05
    judge = inside & ~near_surface
    agree = ((a_raw > 0.5) == (a_lab != 0))[judge].mean()
    assert judge.sum() > 5000
    assert agree > 0.995, agree


def test_flip_matches_numpy_flip_exactly():
    torch.manual_seed(0)
    raw, labels = _blobs((16, 20, 24), seed=1)
    pipeline = _merged(
        _source(RAW, raw, (0, 0, 0), (1, 1, 1)), _source(LABELS, labels, (0, 0, 0), (1, 1, 1))
    )
    seq = K.AugmentationSequential(K.RandomVerticalFlip3D(p=1.0), K.RandomHorizontalFlip3D(p=1.0))
    pipeline += TorchAugment(seq, raw=RAW, labels=[LABELS])
    req = gp.BatchRequest(random_seed=11)
    req[RAW] = gp.ArraySpec(roi=gp.Roi((0, 0, 0), (16, 20, 24)))
    req[LABELS] = gp.ArraySpec(roi=gp.Roi((0, 0, 0), (16, 20, 24)))
    batch = _run(pipeline, req)
    np.testing.assert_array_equal(batch[RAW].data, raw[:, ::-1, ::-1])
    np.testing.assert_array_equal(batch[LABELS].data, labels[:, ::-1, ::-1])


def _ball(shape, centre, radius):
    z, y, x = np.indices(shape)
    return ((z - centre[0]) ** 2 + (y - centre[1]) ** 2 + (x - centre[2]) ** 2) <= radius**2


@pytest.mark.parametrize("label_vs", [(4, 4, 4), (8, 8, 8)], ids=["same-voxel", "coarser-labels"])
def test_object_moves_identically_when_raw_is_bigger_than_labels(label_vs):
    """Valid-U-Net layout: raw 48³ voxels, labels only the central 24³ region (or 12³ at twice the voxel size)."""
    torch.manual_seed(5)
    vs = np.array((4, 4, 4))
    raw_shape = (48, 48, 48)
    centre = np.array((20.0, 27.0, 22.0))  # off-centre so rotation moves it
    raw = _ball(raw_shape, centre, 5).astype(np.float32)
    lvs = np.array(label_vs)
    l_off = np.array((48, 48, 48))  # world offset of the central region (12 raw voxels in)
    l_shape = tuple(int(s) for s in (96 // lvs))
    # label voxel j centred at l_off + (j + ½)·lvs; inside the ball (world) → id
    zz, yy, xx = np.indices(l_shape)
    wc = [l_off[k] + (g + 0.5) * lvs[k] for k, g in enumerate((zz, yy, xx))]
    ball_world = (centre + 0.5) * vs
    inside = sum((wc[k] - ball_world[k]) ** 2 for k in range(3)) <= (5 * 4) ** 2
    labels = np.where(inside, BIG + np.uint64(12345), np.uint64(0)).astype(np.uint64)
    mask = np.ones(l_shape, np.uint8)

    pipeline = _merged(
        _source(RAW, raw, (0, 0, 0), tuple(vs)),
        _source(LABELS, labels, tuple(l_off), tuple(lvs)),
        _source(MASK, mask, tuple(l_off), tuple(lvs)),
    )
    aug = K.RandomAffine3D(
        degrees=((15, 25), (15, 25), (15, 25)),
        translate=(0.04, 0.04, 0.04),
        p=1.0,
        align_corners=True,
    )
    pipeline += TorchAugment(aug, raw=RAW, labels=[LABELS], masks=[MASK])
    req = gp.BatchRequest(random_seed=11)
    req[RAW] = gp.ArraySpec(roi=gp.Roi((0, 0, 0), (192, 192, 192)))
    req[LABELS] = gp.ArraySpec(roi=gp.Roi(tuple(l_off), (96, 96, 96)))
    req[MASK] = gp.ArraySpec(roi=gp.Roi(tuple(l_off), (96, 96, 96)))
    batch = _run(pipeline, req)

    a_raw, a_lab, a_mask = batch[RAW].data, batch[LABELS].data, batch[MASK].data
    w = np.clip(a_raw, 0, None)
    raw_c = (np.array(ndimage.center_of_mass(w)) + 0.5) * vs  # world
    lab = a_lab != 0
    assert lab.sum() > 0 and set(np.unique(a_lab)) <= {0, BIG + np.uint64(12345)}
    lab_c = l_off + (np.array(ndimage.center_of_mass(lab)) + 0.5) * lvs
    orig_c = ball_world
    moved = np.linalg.norm(raw_c - orig_c)
    assert moved > 4.0, "the transform should move the off-centre ball"
    # same motion for both, within a label voxel's rounding
    assert np.linalg.norm(raw_c - lab_c) < 0.35 * lvs[0], (raw_c, lab_c)
    # rotating a box brings outside voxels into the corners: the mask marks them
    assert 0 < (a_mask == 0).sum() < a_mask.size // 3


def test_intensity_augment_leaves_labels_untouched():
    torch.manual_seed(1)
    raw, labels = _blobs((16, 16, 16))
    pipeline = _merged(
        _source(RAW, raw, (0, 0, 0), (1, 1, 1)), _source(LABELS, labels, (0, 0, 0), (1, 1, 1))
    )
    for transform in [K.RandomMotionBlur3D(5, 35.0, 0.5, p=1.0), lambda x: 0.5 * x + 0.1]:
        p = pipeline + TorchAugment(transform, raw=RAW, labels=[LABELS])
        req = gp.BatchRequest(random_seed=11)
        req[RAW] = gp.ArraySpec(roi=gp.Roi((0, 0, 0), (16, 16, 16)))
        req[LABELS] = gp.ArraySpec(roi=gp.Roi((0, 0, 0), (16, 16, 16)))
        batch = _run(p, req)
        assert not np.allclose(batch[RAW].data, raw)
        np.testing.assert_array_equal(batch[LABELS].data, labels)


def test_context_grows_the_request_so_no_padding_reaches_the_roi():
    raw = (0.2 + 0.8 * np.random.default_rng(0).random((64, 64, 64))).astype(np.float32)
    src = _source(RAW, raw, (0, 0, 0), (1, 1, 1))
    req = gp.BatchRequest(random_seed=11)
    req[RAW] = gp.ArraySpec(roi=gp.Roi((16, 16, 16), (32, 32, 32)))
    aug = K.RandomRotation3D((0.0, 0.0, 45.0), p=1.0, align_corners=True)
    torch.manual_seed(2)
    no_ctx = _run(src + TorchAugment(aug, raw=RAW), req)[RAW].data
    torch.manual_seed(2)
    ctx = _run(src + TorchAugment(aug, raw=RAW, context=16), req)[RAW].data
    assert no_ctx.shape == ctx.shape == (32, 32, 32)
    assert (no_ctx == 0).sum() > 100  # corners rotated in from outside the 32³ box
    assert ctx.min() > 0.1  # with 16 voxels of context every voxel comes from real data


def test_integer_raw_is_rejected_with_a_hint():
    from emzoo.errors import InvalidInput

    src = _source(RAW, np.zeros((8, 8, 8), np.uint8), (0, 0, 0), (1, 1, 1))
    req = gp.BatchRequest(random_seed=11)
    req[RAW] = gp.ArraySpec(roi=gp.Roi((0, 0, 0), (8, 8, 8)))
    with pytest.raises(Exception) as info:  # gunpowder wraps node errors; ours is the cause
        _run(src + TorchAugment(K.RandomHorizontalFlip3D(p=1.0), raw=RAW), req)
    err = info.value
    while err is not None and not isinstance(err, InvalidInput):
        err = err.__cause__
    assert err is not None and "Normalize" in err.hint


def test_vectors_rotate_with_the_transform():
    """A field pointing from every voxel to a marker keeps pointing at the moved marker."""
    vs = np.array((4, 4, 4))
    shape = (40, 40, 40)
    marker = np.array((12, 27, 14))  # voxel index, off-centre
    raw = np.zeros(shape, np.float32)
    raw[tuple(slice(m - 1, m + 2) for m in marker)] = 1.0
    idx = np.indices(shape).astype(np.float32)
    vectors = ((marker[:, None, None, None] - idx) * vs[:, None, None, None]).astype(np.float32)
    VEC = gp.ArrayKey("VEC")
    pipeline = _merged(
        _source(RAW, raw, (0, 0, 0), tuple(vs)), _source(VEC, vectors, (0, 0, 0), tuple(vs))
    )
    aug = K.AugmentationSequential(
        K.RandomAffine3D(degrees=((20, 30), (20, 30), (20, 30)), p=1.0, align_corners=True),
        K.RandomHorizontalFlip3D(p=1.0),
    )
    pipeline += TorchAugment(aug, raw=RAW, vectors=[VEC])
    req = gp.BatchRequest(random_seed=3)
    req[RAW] = gp.ArraySpec(roi=gp.Roi((0, 0, 0), (160, 160, 160)))
    req[VEC] = gp.ArraySpec(roi=gp.Roi((40, 40, 40), (80, 80, 80)))  # central half only
    batch = _run(pipeline, req)
    moved = np.array(ndimage.center_of_mass(np.clip(batch[RAW].data, 0, None)))  # raw index
    assert np.linalg.norm(moved - marker) > 2  # it moved
    v = batch[VEC].data.astype(np.float64)
    pos = np.indices(v.shape[1:]) + 10  # voxel index in raw's grid (ROI starts 10 voxels in)
    target = pos + v / vs[:, None, None, None]  # where each voxel's vector points (raw index)
    filled = np.any(v != 0, axis=0).reshape(-1)  # corners rotated in from outside hold 0
    assert filled.mean() > 0.7
    err = np.linalg.norm(target.reshape(3, -1).T - moved, axis=1)[filled]
    # within the nearest-neighbour rounding of one voxel (√3/2 ≈ 0.87) plus the centroid's blur
    assert np.median(err) < 0.6 and err.max() < 1.5, (np.median(err), err.max())
