"""LSD targets against the reference implementation (lsds: lsd.train.local_shape_descriptor)."""

import numpy as np
import pytest
from _labels import voronoi_labels

from emzoo.errors import InvalidInput
from emzoo.targets import local_shape_descriptors, micron_targets

ref = pytest.importorskip("lsd.train.local_shape_descriptor")

CASES = [
    # shape, voxel size, sigma (nm), mode, downsample
    ((8, 32, 32), (40, 4, 4), (80, 16, 16), "gaussian", 1),
    ((8, 32, 32), (40, 4, 4), (120, 40, 40), "gaussian", 2),
    ((16, 16, 16), (10, 5, 5), 80, "gaussian", 2),
    ((12, 24, 24), (8, 8, 8), 16, "sphere", 1),
    ((12, 24, 24), (8, 8, 8), 32, "sphere", 2),
    ((6, 20, 20), (40, 4, 4), (80, 8, 8), "sphere", 2),  # anisotropic voxels, isotropic in voxels
    ((8, 32, 32), (40, 4, 4), 4, "gaussian", 1),  # Micron's sigma: z not smoothed at all
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("seed", [0, 1])
def test_lsd_matches_reference(case, seed):
    shape, voxel, sigma, mode, down = CASES[case]
    labels = voronoi_labels(shape, 10 + 5 * seed, seed)
    labels[:2, :3, :3] = 99  # tiny object that the sub-sampled grid may miss entirely
    sig = (sigma,) * 3 if np.isscalar(sigma) else sigma
    expected = ref.get_local_shape_descriptors(
        labels, sig, voxel_size=voxel, mode=mode, downsample=down
    )
    got = local_shape_descriptors(labels, sigma, voxel, mode=mode, downsample=down)
    assert got.shape == expected.shape == (10, *shape)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    assert 0 <= got.min() and got.max() <= 1
    # offsets and Pearson channels are zero on background; size > 0 inside objects
    assert np.all(got[[0, 1, 2, 6, 7, 8]][:, labels == 0] == 0)
    assert np.all(got[9][labels != 0] > 0)


def test_lsd_2d_matches_reference():
    labels = voronoi_labels((32, 32), 6, 3)
    expected = ref.get_local_shape_descriptors(
        labels, (20.0, 20.0), voxel_size=(4, 4), downsample=2
    )
    got = local_shape_descriptors(labels, 20, 4, downsample=2)
    assert got.shape == (6, 32, 32)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_micron_targets_are_lsds_with_sigma_4nm():
    tracks = np.zeros((6, 24, 24), np.uint64)
    tracks[:, 5, 5] = 1  # a straight microtubule along z
    tracks[3, 10:20, 12] = 2  # one along y
    got = micron_targets(tracks, (40, 4, 4))
    expected = ref.get_local_shape_descriptors(tracks, (4.0, 4.0, 4.0), voxel_size=(40, 4, 4))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    assert got[9][tracks > 0].min() > 0 and got[9][tracks == 0].max() == 0


def test_lsd_rejects_bad_arguments():
    labels = np.ones((6, 10, 10), np.uint64)
    with pytest.raises(InvalidInput, match="divisible"):
        local_shape_descriptors(labels, 8, 1, downsample=4)
    with pytest.raises(InvalidInput, match="sphere"):
        local_shape_descriptors(labels, 80, (40, 4, 4), mode="sphere")
    with pytest.raises(InvalidInput, match="mode"):
        local_shape_descriptors(labels, 80, 1, mode="box")
