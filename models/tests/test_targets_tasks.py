"""Per-task target bundles: shapes, weights and the balancing property on a real label crop."""

import numpy as np
from _labels import voronoi_labels

from emzoo.targets import lsd_task_targets, lsd_weights, micron_task_targets, synful_task_targets


def test_lsd_task_targets():
    labels = voronoi_labels((8, 32, 32), 12, 4, background=0.1)
    mask = np.ones(labels.shape, np.uint8)
    mask[:, :, :4] = 0
    t = lsd_task_targets(labels, (40, 4, 4), sigma=(120, 40, 40), labels_mask=mask)
    assert t["lsds"].shape == (10, 8, 32, 32) and t["affs"].shape == (3, 8, 32, 32)
    assert t["lsds_weights"].shape == (1, 8, 32, 32)
    assert np.all(t["lsds_weights"][0][labels == 0] == 0) and np.all(
        t["lsds_weights"][0][:, :, :4] == 0
    )
    # BalanceLabels: without clipping each class's weights sum to half the masked-in voxels
    w, a = t["affs_weights"], t["affs"]
    fg, bg = w[a == 1].sum(), w[(a == 0) & (w > 0)].sum()
    assert np.isclose(fg, bg, rtol=1e-4) and np.isclose(fg + bg, (w > 0).sum(), rtol=1e-4)
    assert np.all(w[:, :, :, :4] == 0)


def test_lsd_weights_unmask_background():
    labels = np.array([[[0, 3, 3, 0]]], np.uint64)
    mask = np.array([[[1, 1, 0, 0]]], np.uint8)
    assert lsd_weights(labels, mask).ravel().tolist() == [0, 1, 0, 0]
    assert lsd_weights(labels, mask, unmask_background=True).ravel().tolist() == [0, 1, 1, 1]


def test_synful_and_micron_task_targets():
    labels = voronoi_labels((6, 40, 40), 5, 1, background=0.0)
    post = np.array([[100.0, 80.0, 80.0], [180.0, 60.0, 100.0]])
    pre = post + np.array([[0.0, 40.0, 0.0], [40.0, 0.0, -40.0]])
    t = synful_task_targets(labels, post, pre, (40, 4, 4), mask_radius=20.0)
    assert t["post_mask"].shape == (1, 6, 40, 40) and t["vectors"].shape == (3, 6, 40, 40)
    m, w = t["post_mask"], t["post_mask_weights"]
    # rare foreground gets the larger weight; both classes carry half the total weight
    assert w[m == 1].min() > w[m == 0].max()
    assert np.isclose(w[m == 1].sum(), w[m == 0].sum(), rtol=1e-4)
    tracks = np.zeros((6, 40, 40), np.uint64)
    tracks[:, 20, 20] = 1
    lsds = micron_task_targets(tracks, (40, 4, 4))["lsds"]
    assert lsds.shape == (10, 6, 40, 40) and lsds[9, :, 20, 20].min() > 0
