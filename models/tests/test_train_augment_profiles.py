"""Augmentation profiles (emzoo.augment.profiles): every profile's nodes keep raw and labels
aligned, the elastic profile really deforms, everything is a function of the request's seed, and
every task pipeline builds with every profile on a tiny `emzoo synth` volume."""

from __future__ import annotations

import gunpowder as gp
import numpy as np
import pytest
import torch

from emzoo.augment.profiles import FIB25, PROFILES, SYNFUL_CREMI, dataset_augmentation
from emzoo.data import write_zarr
from emzoo.data.synth import generate_volume
from emzoo.errors import InvalidInput
from emzoo.registry import get_preset
from emzoo.train import TrainConfig
from emzoo.train.distributed import DistEnv
from emzoo.train.gp_nodes import NumpySource
from emzoo.train.tasks import build_task
from emzoo.train.tasks import common as c

CPU = DistEnv(rank=0, world_size=1, local_rank=0, device=torch.device("cpu"))


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _blocks(shape, sizes, seed):
    """Labels: random boxes of ids 1..n (ids of different size classes, no 0 inside)."""
    rng = np.random.default_rng(seed)
    grid = [np.arange(s) // b for s, b in zip(shape, sizes, strict=True)]
    cell = grid[0][:, None, None] * 10_000 + grid[1][None, :, None] * 100 + grid[2][None, None, :]
    ids = np.unique(cell)
    new = rng.permutation(len(ids)) + 1
    return new[np.searchsorted(ids, cell)].astype(np.uint64)


def _grey(labels):
    # a distinct grey level per id in [0.3, 0.7]: intensity aug (x0.9-1.1, +-0.1) never clips
    return (0.3 + 0.4 * ((labels.astype(np.int64) * 37) % 41) / 40).astype(np.float32)


# (task, preset, voxel size, volume shape, label box size)
GEOMETRY = [
    ("lsd", "lsd-small-mtlsd", (8, 8, 8), (100, 100, 100), (9, 11, 13)),
    ("synful", "synful-small", (8, 8, 8), (100, 100, 100), (9, 11, 13)),
    ("micron", "micron-small", (40, 4, 4), (40, 160, 160), (3, 17, 19)),
    ("synister", "synister-small", (40, 4, 4), (40, 160, 160), (3, 17, 19)),
]
NODE_PROFILES = ["originals", "kornia", "none"]  # kornia-light is each task's own code


def _augment(task, preset_name, vs, shape, box, profile, seed, roi_voxels):
    """raw (a function of labels), labels and mask through the profile's nodes."""
    preset = get_preset(preset_name)
    labels = _blocks(shape, box, 0)
    RAW, LAB, MASK = gp.ArrayKey("RAW"), gp.ArrayKey("LAB"), gp.ArrayKey("MASK")
    pipeline = c.merged(
        c.source(RAW, _grey(labels), (0, 0, 0), vs),
        NumpySource(LAB, labels, (0, 0, 0), vs) + gp.Pad(LAB, None),
        c.source(MASK, np.ones(shape, np.uint8), (0, 0, 0), vs),
    )
    nodes = c.augmentation(profile, task, preset, vs, RAW, labels=[LAB], masks=[MASK])
    pipeline = c.chain(pipeline, nodes)
    corner = [(s - r) // 2 * v for s, r, v in zip(shape, roi_voxels, vs, strict=True)]
    roi = gp.Roi(corner, [r * v for r, v in zip(roi_voxels, vs, strict=True)])
    req = gp.BatchRequest(random_seed=seed)
    for k in (RAW, LAB, MASK):
        req[k] = gp.ArraySpec(roi=roi)
    with gp.build(pipeline):
        batch = pipeline.request_batch(req)
    return labels, batch[RAW].data, batch[LAB].data, batch[MASK].data


def _interior(labels, isotropic):
    """Voxels whose 3x3x3 (sections: 1x3x3) neighbourhood has one label: linear interpolation
    of raw there mixes only voxels of that label."""
    from scipy import ndimage

    footprint = np.ones((3 if isotropic else 1, 3, 3), bool)
    lo = ndimage.minimum_filter(labels, footprint=footprint, mode="nearest")
    return lo == ndimage.maximum_filter(labels, footprint=footprint, mode="nearest")


def _aligned_fraction(raw, labels, isotropic):
    """Per z-section, the least-squares affine map grey(label) → raw (intensity augmentation
    is affine per section or per batch); fraction of interior voxels within 0.01 of it."""
    want, inside = _grey(labels), _interior(labels, isotropic)
    good = total = 0
    for z in range(raw.shape[0]):
        m = inside[z]
        if m.sum() < 10 or np.ptp(want[z][m]) == 0:
            continue
        a, b = np.polyfit(want[z][m], raw[z][m], 1)
        good += int((np.abs(a * want[z][m] + b - raw[z][m]) < 0.01).sum())
        total += int(m.sum())
    return good / total


@pytest.mark.parametrize("profile", NODE_PROFILES)
@pytest.mark.parametrize(("task", "preset", "vs", "shape", "box"), GEOMETRY, ids=lambda g: str(g))
def test_profile_keeps_raw_and_labels_aligned(task, preset, vs, shape, box, profile):
    roi = (16, 40, 40) if vs[0] != vs[1] else (40, 40, 40)
    labels, raw, lab, mask = _augment(task, preset, vs, shape, box, profile, 7, roi)
    assert raw.shape == lab.shape == mask.shape == roi
    # ids are moved, never blended: only the volume's own ids (and 0 from padding)
    assert set(np.unique(lab)) <= set(np.unique(labels)) | {0}
    assert set(np.unique(mask)) <= {0, 1}
    assert _aligned_fraction(raw, lab, vs[0] == vs[1]) > 0.97
    if profile == "none":
        window = tuple(
            slice((s - r) // 2, (s - r) // 2 + r) for s, r in zip(shape, roi, strict=True)
        )
        np.testing.assert_array_equal(lab, labels[window])


@pytest.mark.parametrize(("task", "preset", "vs", "shape", "box"), GEOMETRY, ids=lambda g: str(g))
def test_originals_profile_deforms_and_is_a_function_of_the_seed(task, preset, vs, shape, box):
    roi = (16, 40, 40) if vs[0] != vs[1] else (40, 40, 40)
    _, raw0, lab0, _ = _augment(task, preset, vs, shape, box, "none", 7, roi)
    _, raw1, lab1, _ = _augment(task, preset, vs, shape, box, "originals", 7, roi)
    _, raw2, lab2, _ = _augment(task, preset, vs, shape, box, "originals", 7, roi)
    _, _, lab3, _ = _augment(task, preset, vs, shape, box, "originals", 8, roi)
    np.testing.assert_array_equal(raw1, raw2)
    assert not np.allclose(raw0, raw1)
    np.testing.assert_array_equal(lab1, lab2)
    assert (lab1 != lab0).mean() > 0.2  # moved (rotation + deformation), not a few voxels
    assert (lab3 != lab1).mean() > 0.2  # another seed, another transform
    # the alignment measure tells: raw of one transform against labels of another fails it
    assert _aligned_fraction(raw1, lab3, vs[0] == vs[1]) < 0.5


def test_elastic_deformation_is_not_only_a_rotation():
    """The jittered elastic pass of FIB-25 moves voxels non-rigidly: with rotation, slips and
    SimpleAugment off, the id map still changes and stays a relabelling of the original ids."""
    from dataclasses import replace

    from emzoo.augment import profiles

    el = replace(FIB25.elastic_after[0], rotation=(0.0, 0.0), prob_slip=0, prob_shift=0)
    el = el.scaled((60 / 196,) * 3)
    labels = _blocks((80, 80, 80), (7, 9, 11), 1)
    LAB = gp.ArrayKey("LAB_ONLY")
    pipeline = NumpySource(LAB, labels, (0, 0, 0), (8, 8, 8)) + gp.Pad(LAB, None) + el.node()
    req = gp.BatchRequest(random_seed=3)
    req[LAB] = gp.ArraySpec(roi=gp.Roi((80, 80, 80), (480, 480, 480)))
    with gp.build(pipeline):
        lab = pipeline.request_batch(req)[LAB].data
    changed = (lab != labels[10:70, 10:70, 10:70]).mean()
    assert 0.01 < changed < 0.6
    assert set(np.unique(lab)) <= set(np.unique(labels))
    assert profiles.PROFILES == ("originals", "kornia", "kornia-light", "none")


def test_scaled_parameters_follow_the_crop():
    d = dataset_augmentation("lsd", (8, 8, 8), (60, 60, 60))
    first, second = d.elastic_before[0], d.elastic_after[0]
    assert first.spacing == (12, 12, 12) and first.jitter == (0, 0, 0)
    assert second.spacing == (12, 12, 12)
    assert second.jitter[0] == pytest.approx(2 * 12 / 40)  # same strain as 2 voxels / 40
    assert second.max_misalign == 1 and second.subsample == 2
    paper = dataset_augmentation("lsd", (8, 8, 8), (196, 196, 196))
    assert paper.elastic_after[0] == FIB25.elastic_after[0]  # the paper crop: unchanged
    cremi = dataset_augmentation("synful", (40, 4, 4), (42, 430, 430))
    assert cremi.elastic_before == SYNFUL_CREMI.elastic_before
    zf = dataset_augmentation("lsd", (20, 9, 9), (84, 268, 268))
    assert zf.name == "zebrafinch" and zf.grow_boundary_only_xy and zf.transpose_only == (1, 2)


@pytest.fixture(scope="module")
def volumes(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    iso = write_zarr(generate_volume((48, 48, 48), "isotropic", seed=1), root / "iso.zarr")
    aniso = write_zarr(generate_volume((16, 96, 96), "anisotropic", seed=2), root / "aniso.zarr")
    return {"isotropic": iso, "anisotropic": aniso}


TASKS = [
    ("lsd-small-mtlsd", "isotropic"),
    ("synful-small", "isotropic"),
    ("micron-small", "anisotropic"),
    ("synister-small", "anisotropic"),
]


@pytest.mark.parametrize(("preset", "mode"), TASKS, ids=[t[0] for t in TASKS])
def test_every_profile_builds_each_task_pipeline(volumes, preset, mode, tmp_path):
    p = get_preset(preset)
    batches = {}
    for profile in PROFILES:
        cfg = TrainConfig(out=tmp_path, iterations=1, seed=5)
        task = build_task(p, volumes[mode], CPU, cfg, augment=profile)
        try:
            batches[profile] = task.batches(0)
            again = task.batches(0)
        finally:
            task.close()
        assert task.record["augment"] == profile
        for k, v in batches[profile].items():
            np.testing.assert_array_equal(v, again[k])  # deterministic per seed and iteration
        assert batches[profile]["raw"].shape == (1, 1, *p.train_input_shape)
        if p.output_kind == "dense":
            for term in task.terms:
                assert (
                    batches[profile][term.target].shape[-3:]
                    == batches[profile][term.weights or term.target].shape[-3:]
                )
    # same location and seed: augmentation is what differs
    assert not np.array_equal(batches["originals"]["raw"], batches["none"]["raw"])
    if preset == "synful-small":
        # targets rasterised from the moved points: the post mask lies inside the vector mask
        for b in batches.values():
            assert np.all(b["vectors_mask"][b["gt_mask"] > 0] == 1)


def test_unknown_profile_is_rejected_with_the_list(volumes, tmp_path):
    cfg = TrainConfig(out=tmp_path, iterations=1)
    with pytest.raises(InvalidInput) as info:
        build_task(get_preset("synister-small"), volumes["anisotropic"], CPU, cfg, augment="x")
    assert "originals" in info.value.hint and "kornia-light" in info.value.hint
