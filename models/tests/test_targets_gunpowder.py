"""Affinities, class balancing and post-synaptic masks against gunpowder's own nodes."""

import numpy as np
import pytest
from _labels import voronoi_labels

from emzoo.targets import affinities, affinity_context, balance_labels, post_synaptic_mask

gp = pytest.importorskip("gunpowder")
from funlib.persistence import Array as PersistenceArray  # noqa: E402


def _source(key, data, voxel_size, offset=(0, 0, 0)):
    return gp.ArraySource(
        key, PersistenceArray(data, offset=offset, voxel_size=voxel_size), interpolatable=False
    )


def _run(pipeline, request):
    with gp.build(pipeline):
        return pipeline.request_batch(request)


NEIGHBORHOODS = [
    [(-1, 0, 0), (0, -1, 0), (0, 0, -1)],
    [
        (-1, 0, 0),
        (0, -3, 0),
        (0, 0, -9),
        (-2, 0, 0),
        (1, 2, 0),
        (0, -2, 3),
    ],  # long-range, mixed signs
]


@pytest.mark.parametrize("nhood", range(len(NEIGHBORHOODS)))
def test_affinities_match_gunpowder(nhood):
    neighborhood = NEIGHBORHOODS[nhood]
    voxel = (40, 4, 4)
    offset = (80, 40, 20)
    labels = voronoi_labels((10, 30, 30), 15, nhood, background=0.1)
    rng = np.random.default_rng(nhood)
    labels_mask = (rng.random(labels.shape) > 0.1).astype(np.uint8)
    unlabelled = (rng.random(labels.shape) > 0.2).astype(np.uint8)
    keys = {
        n: gp.ArrayKey(n.upper()) for n in ("labels", "mask", "unlabelled", "affs", "affs_mask")
    }
    sources = (
        _source(keys["labels"], labels, voxel, offset),
        _source(keys["mask"], labels_mask, voxel, offset),
        _source(keys["unlabelled"], unlabelled, voxel, offset),
    )
    pipeline = sources + gp.MergeProvider()
    pipeline += gp.AddAffinities(
        neighborhood,
        labels=keys["labels"],
        affinities=keys["affs"],
        labels_mask=keys["mask"],
        unlabelled=keys["unlabelled"],
        affinities_mask=keys["affs_mask"],
    )
    neg, pos = affinity_context(neighborhood)
    out_shape = tuple(s - a - b for s, a, b in zip(labels.shape, neg, pos, strict=True))
    roi = gp.Roi(
        tuple(o + n * v for o, n, v in zip(offset, neg, voxel, strict=True)),
        tuple(s * v for s, v in zip(out_shape, voxel, strict=True)),
    )
    request = gp.BatchRequest()
    request[keys["affs"]] = gp.ArraySpec(roi=roi)
    request[keys["affs_mask"]] = gp.ArraySpec(roi=roi)
    batch = _run(pipeline, request)

    affs, mask = affinities(labels, neighborhood, labels_mask=labels_mask, unlabelled=unlabelled)
    crop = (slice(None), *(slice(n, n + s) for n, s in zip(neg, out_shape, strict=True)))
    expected_affs = batch[keys["affs"]].data
    expected_mask = batch[keys["affs_mask"]].data
    assert expected_affs.shape == affs[crop].shape
    assert np.abs(affs[crop] - expected_affs).max() == 0
    assert np.abs(mask[crop] - expected_mask).max() == 0
    # the case is not trivial: both values occur in affinities and in the mask
    assert 0 < affs[crop].mean() < 1 and 0 < mask[crop].mean() < 1

    # without masks gunpowder's mask is all ones; label 0 never has affinity 1
    affs_plain, mask_plain = affinities(labels, neighborhood)
    assert np.all(mask_plain == 1) and np.array_equal(affs_plain, affs)
    assert np.all(affs_plain[:, labels == 0] == 0)


@pytest.mark.parametrize(
    "slab,clip,num_classes",
    [(None, (0.05, 0.95), 2), ((-1, -1, -1), (7e-4, 0.9993), 2), ((2, -1, 5), (0.05, 0.95), 3)],
)
def test_balance_labels_matches_gunpowder(slab, clip, num_classes):
    rng = np.random.default_rng(num_classes)
    labels = (rng.random((6, 10, 10)) ** 3 * num_classes).astype(np.uint8)  # unbalanced classes
    mask = (rng.random(labels.shape) > 0.3).astype(np.uint8)
    key_l, key_m, key_s = gp.ArrayKey("L"), gp.ArrayKey("M"), gp.ArrayKey("S")
    sources = (_source(key_l, labels, (40, 4, 4)), _source(key_m, mask, (40, 4, 4)))
    pipeline = sources + gp.MergeProvider()
    pipeline += gp.BalanceLabels(
        key_l,
        key_s,
        mask=key_m,
        slab=slab,
        num_classes=num_classes,
        clipmin=clip[0],
        clipmax=clip[1],
    )
    request = gp.BatchRequest()
    request[key_s] = gp.ArraySpec(roi=gp.Roi((0, 0, 0), (240, 40, 40)))
    expected = _run(pipeline, request)[key_s].data
    got = balance_labels(
        labels, mask, slab=slab, num_classes=num_classes, clipmin=clip[0], clipmax=clip[1]
    )
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    assert len(np.unique(got)) > 2  # masked zeros plus more than one class weight


class _Points(gp.BatchProvider):
    """A graph source of isolated nodes (gunpowder has none that takes an in-memory list)."""

    def __init__(self, key, locations, roi):
        self.key, self.locations, self.roi = key, locations, roi

    def setup(self):
        self.provides(self.key, gp.GraphSpec(roi=self.roi))

    def provide(self, request):
        roi = request[self.key].roi
        nodes = [
            gp.Node(i + 1, location=np.asarray(p, np.float32))
            for i, p in enumerate(self.locations)
            if roi.contains(p)
        ]
        batch = gp.Batch()
        batch[self.key] = gp.Graph(nodes, [], gp.GraphSpec(roi=roi))
        return batch


class _UntypedLabels(gp.BatchFilter):
    """gunpowder 1.4.4 RasterizeGraph wraps the boolean per-object mask in the label array's spec
    and then fails its own dtype assertion; dropping the dtype from the spec sidesteps that."""

    def __init__(self, key):
        self.key = key

    def process(self, batch, request):
        spec = batch[self.key].spec.copy()
        spec.dtype = None
        batch[self.key] = gp.Array(batch[self.key].data, spec)


@pytest.mark.parametrize("radius", [10.0, 60.0])
def test_post_synaptic_mask_matches_rasterize_graph(radius):
    voxel = (40, 4, 4)
    labels = voronoi_labels((8, 40, 40), 6, 5, background=0.0)
    labels[:, 18:21, :] = 0  # a membrane band: points on it are skipped
    rng = np.random.default_rng(1)
    points = rng.uniform((0, 0, 0), (320, 160, 160), size=(12, 3))
    points[0] = (140.0, 78.0, 50.0)  # on the band (label 0)
    points[1] = (0.5, 0.5, 0.5)  # corner: ball clipped by the volume
    key_l, key_p, key_m = gp.ArrayKey("LABELS"), gp.GraphKey("POST"), gp.ArrayKey("POST_MASK")
    roi = gp.Roi((0, 0, 0), (320, 160, 160))
    sources = (_source(key_l, labels, voxel), _Points(key_p, points, roi))
    pipeline = sources + gp.MergeProvider()
    pipeline += _UntypedLabels(key_l)
    pipeline += gp.RasterizeGraph(
        key_p,
        key_m,
        array_spec=gp.ArraySpec(voxel_size=gp.Coordinate(voxel), dtype=np.uint8),
        settings=gp.RasterizationSettings(radius=radius, mode="ball", mask=key_l),
    )
    request = gp.BatchRequest()
    request[key_m] = gp.ArraySpec(roi=roi)
    expected = _run(pipeline, request)[key_m].data
    got = post_synaptic_mask(points, labels, voxel, radius=radius)
    assert got.dtype == np.uint8 and got.shape == labels.shape
    assert np.array_equal(got, expected)
    assert got.sum() > 12
