"""Synful partner vectors, Micron track rasterisation and Synister classes against brute force."""

import numpy as np
import pytest
from _labels import voronoi_labels

from emzoo.errors import InvalidInput
from emzoo.targets import TRANSMITTERS, partner_vectors, rasterize_tracks, synapse_classes


def _brute_force_vectors(post, pre, labels, voxel, offset, radius):
    """Direct definition, voxel by voxel: nearest covering ball wins, value = pre - voxel (nm)."""
    vectors = np.zeros((3, *labels.shape), np.float32)
    mask = np.zeros(labels.shape, np.uint8)
    centres = [np.floor((np.array(p) - offset) / voxel).astype(int) for p in post]
    for idx in np.ndindex(labels.shape):
        best = None
        for i, c in enumerate(centres):
            if np.any(c < 0) or np.any(c >= labels.shape) or labels[idx] != labels[tuple(c)]:
                continue
            d = np.sqrt(np.sum(((np.array(idx) - c) * voxel) ** 2))
            if d <= radius and (best is None or d < best[0]):
                best = (d, i)
        if best is not None:
            mask[idx] = 1
            vectors[(slice(None), *idx)] = np.array(pre[best[1]]) - (
                np.array(offset) + np.array(idx) * voxel
            )
    return vectors, mask


def test_partner_vectors_match_definition():
    voxel = np.array([40.0, 4.0, 4.0])
    offset = np.array([400.0, 80.0, 120.0])
    labels = voronoi_labels((5, 24, 24), 4, 2, background=0.0)
    rng = np.random.default_rng(3)
    post = offset + rng.uniform((0, 0, 0), (200, 96, 96), size=(5, 3))
    post[1] = post[0] + (0, 12, 8)  # overlapping balls → nearest-point assignment
    pre = post + rng.normal(0, 60, size=post.shape)
    post = np.vstack([post, offset - 500])  # outside the volume: ignored
    pre = np.vstack([pre, offset])
    got, mask = partner_vectors(post, pre, labels, voxel, offset, radius=40.0)
    expected, expected_mask = _brute_force_vectors(post, pre, labels, voxel, offset, 40.0)
    assert np.array_equal(mask, expected_mask) and mask.sum() > 50
    assert np.abs(got - expected).max() < 1e-3
    # at a post voxel the vector points to its own pre partner
    c = tuple(np.floor((post[2] - offset) / voxel).astype(int))
    if mask[c]:
        np.testing.assert_allclose(
            got[(slice(None), *c)], pre[2] - (offset + np.array(c) * voxel), atol=1e-3
        )


def test_partner_vectors_need_pairs():
    with pytest.raises(InvalidInput, match="pre"):
        partner_vectors(
            np.zeros((2, 3)), np.zeros((1, 3)), np.ones((2, 2, 2), np.uint64), (1, 1, 1)
        )


def test_rasterize_tracks_draws_polylines():
    voxel = (40, 4, 4)
    tracks = [
        np.array([[20.0, 2.0, 2.0], [20.0, 2.0, 42.0]]),  # along x in section 0: voxels x 0..10
        np.array([[60.0, 30.0, 30.0], [220.0, 30.0, 30.0], [220.0, 70.0, 30.0]]),  # z then y
    ]
    labels = rasterize_tracks(tracks, (6, 20, 20), voxel, ids=[5, 9])
    assert labels.dtype == np.uint64
    assert np.array_equal(np.flatnonzero(labels[0, 0] == 5), np.arange(11))
    assert np.all(labels[1:6, 7, 7] == 9) and np.all(labels[5, 7:18, 7] == 9)
    assert (labels == 5).sum() == 11 and (labels == 9).sum() == 5 + 11 - 1


def test_synapse_classes_follow_the_neuron_table():
    classes = synapse_classes([3, 3, 8, 5], neuron_ids=[3, 5, 8], neuron_transmitters=[1, 4, 0])
    assert classes.tolist() == [1, 1, 0, 4]
    assert TRANSMITTERS[1] == "acetylcholine" and len(TRANSMITTERS) == 6
    with pytest.raises(InvalidInput, match="no transmitter"):
        synapse_classes([2], neuron_ids=[3], neuron_transmitters=[1])
